import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { RDS_CA_FILE } from '../../scripts/lib/rds-ca.js';

// `npm run deploy -- --stage dev --dry-run` as a deployer with a laptop would run it: no
// PostgreSQL, no PgBouncer, no python3 (Django) on PATH, no AWS credentials. It must pass every
// local check, package and check the package, and open no connection beyond this machine — no
// AWS API, no RDS CA download, no database. Runs the real script (type-check, the offline vitest
// config, packaging): a few minutes. It runs in a committed copy of the project whose serverless.yml
// has a stage `qa` like dev with the REPLACE-ME values filled in, as a deployer's would: the
// repository's own dev stage stops at the placeholder check, as it should.

const root = fileURLToPath(new URL('../..', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'cashbook-dry-run-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The project's files (tracked and new, not ignored) in a git repository of their own, with stage `qa`. */
function projectCopy(): string {
  const copy = join(dir, 'project');
  const files = execFileSync('git', ['-C', root, 'ls-files', '-z', '--cached', '--others', '--exclude-standard']).toString().split('\0').filter(Boolean);
  for (const file of files) if (existsSync(join(root, file))) cpSync(join(root, file), join(copy, file));
  symlinkSync(join(root, 'node_modules'), join(copy, 'node_modules'));
  const yml = parseDocument(readFileSync(join(copy, 'serverless.yml'), 'utf8'));
  const qa = JSON.parse(JSON.stringify(yml.getIn(['params', 'dev'], false)).replaceAll('REPLACE-ME', 'x0laptop').replaceAll('/cashbook/dev/', '/cashbook/qa/'));
  yml.setIn(['params', 'qa'], qa);
  writeFileSync(join(copy, 'serverless.yml'), yml.toString());
  const git = (...args: string[]) => execFileSync('git', ['-C', copy, '-c', 'user.name=dry-run test', '-c', 'user.email=dry-run@test.invalid', ...args], { stdio: 'pipe' });
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'the deployer’s checkout');
  return copy;
}

/**
 * Loaded into every Node process of the run (NODE_OPTIONS): records each outgoing TCP connection
 * and DNS lookup that is not to this machine. fetch, the AWS SDK and pg all connect through
 * net.Socket, so anything that left the machine is in the file.
 */
const RECORDER = `
import net from 'node:net';
import dns from 'node:dns';
import { appendFileSync } from 'node:fs';
const out = process.env.DRY_RUN_NETWORK_LOG;
const local = (h) => !h || h === 'localhost' || /^127\\./.test(h) || h === '::1' || h === '0.0.0.0';
const record = (what) => appendFileSync(out, what + ' (pid ' + process.pid + ')\\n');
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const o = typeof args[0] === 'object' && args[0] !== null ? (Array.isArray(args[0]) ? args[0][0] : args[0]) : { port: args[0], host: args[1] };
  if (!o.path && !local(o.host)) record('connect ' + o.host + ':' + o.port);
  return connect.apply(this, args);
};
for (const [owner, name] of [[dns, 'lookup'], [dns.promises, 'lookup'], [dns, 'resolve'], [dns.promises, 'resolve']]) {
  const original = owner[name];
  owner[name] = function (host, ...rest) {
    if (!local(host)) record('dns ' + host);
    return original.call(this, host, ...rest);
  };
}
`;

// Nothing here goes through the application's database path, which is all that CI's pooled run
// (TEST_POOLER=pgbouncer) repeats: minutes saved there.
describe.skipIf(process.env.TEST_POOLER)('npm run deploy -- --stage <stage> --dry-run', () => {
  it('(the recorder itself) notes a connection or lookup off this machine', async () => {
    const recorder = join(dir, 'recorder-check.mjs');
    writeFileSync(recorder, RECORDER);
    const log = join(dir, 'recorder-check.log');
    writeFileSync(log, '');
    // The real connect and lookup are replaced by no-ops first: nothing leaves the machine.
    const script = [
      "import net from 'node:net'; import dns from 'node:dns';",
      'net.Socket.prototype.connect = function () { return this; }; dns.lookup = () => {};',
      `await import(${JSON.stringify(recorder)});`,
      "new net.Socket().connect({ host: 'lambda.eu-west-1.amazonaws.com', port: 443 }); new net.Socket().connect({ host: '127.0.0.1', port: 5432 });",
      "dns.lookup('truststore.pki.rds.amazonaws.com', () => {}); dns.lookup('localhost', () => {});",
    ].join('\n');
    await new Promise<void>((resolve, reject) =>
      execFile(process.execPath, ['--input-type=module', '-e', script], { env: { ...process.env, DRY_RUN_NETWORK_LOG: log } }, (err) => (err ? reject(err) : resolve())),
    );
    expect(readFileSync(log, 'utf8').replace(/ \(pid \d+\)/g, '')).toBe('connect lambda.eu-west-1.amazonaws.com:443\ndns truststore.pki.rds.amazonaws.com\n');
  });

  it('passes on a machine without PgBouncer, python3 or AWS credentials, and makes no AWS call', async () => {
    // PATH: everything this machine has except PgBouncer and Python (a laptop has neither).
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const hidden = /^(pgbouncer|python[\d.]*|psql|postgres|pg_ctl)$/;
    // The Node running this suite (CI's second run is on Node 24) runs the deploy and its children.
    symlinkSync(process.execPath, join(bin, 'node'));
    for (const d of (process.env.PATH ?? '').split(':').filter(Boolean)) {
      if (!existsSync(d) || d.includes('node_modules')) continue;
      for (const tool of readdirSync(d)) {
        if (!hidden.test(tool) && !existsSync(join(bin, tool))) symlinkSync(join(d, tool), join(bin, tool));
      }
    }
    for (const tool of ['pgbouncer', 'python3', 'python']) expect(existsSync(join(bin, tool)), tool).toBe(false);
    expect(existsSync(join(bin, 'node')) && existsSync(join(bin, 'git'))).toBe(true);
    const recorder = join(dir, 'recorder.mjs');
    writeFileSync(recorder, RECORDER);
    const networkLog = join(dir, 'network.log');
    writeFileSync(networkLog, '');
    const project = projectCopy();
    const caFile = join(project, RDS_CA_FILE);
    const caBefore = existsSync(caFile) ? readFileSync(caFile) : undefined;

    const env: NodeJS.ProcessEnv = {
      HOME: dir,
      PATH: bin,
      LANG: 'C.UTF-8',
      // No credentials anywhere, and no instance metadata to fall back to.
      AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      // Nothing that would let it reach a database either.
      MIGRATE_DATABASE_URL: '',
      NODE_OPTIONS: `--import ${recorder}`,
      DRY_RUN_NETWORK_LOG: networkLog,
    };
    const result = await new Promise<{ code: number; output: string }>((resolve) => {
      execFile(
        process.execPath,
        [join(project, 'node_modules/tsx/dist/cli.mjs'), join(project, 'scripts/deploy.ts'), '--stage', 'qa', '--dry-run'],
        { cwd: project, env, maxBuffer: 64 * 1024 * 1024, timeout: 900_000 },
        (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
      );
    });

    expect(result.output, result.output.slice(-4000)).toContain('[deploy] dry run of stage qa passed');
    expect(result.code).toBe(0);
    const commit = execFileSync('git', ['-C', project, 'rev-parse', 'HEAD']).toString().trim();
    expect(result.output).toContain(`[deploy] commit ${commit}: the full suite`);
    expect(result.output).not.toContain('UNCOMMITTED');
    expect(result.output).toContain('DRY RUN of stage qa (eu-west-1)');
    expect(result.output).toContain(`${RDS_CA_FILE} is a labelled STAND-IN (not a certificate)`);
    expect(result.output).toContain('the checks that need no service');
    expect(result.output).toContain('migrations only expand');
    expect(result.output).toContain('check the package (placeholders, RDS CA in every zip) done');
    // None of the steps that need AWS or the database ran.
    expect(result.output).toContain('[deploy] 7/7 check the package');
    expect(result.output).not.toMatch(/\[deploy\] \d+\/\d+ (read the database|Lambda concurrency|find the deployment|migrate|serverless deploy|smoke test)/);
    expect(readFileSync(networkLog, 'utf8')).toBe('');
    // The stand-in does not outlive the dry run.
    expect(existsSync(caFile) ? readFileSync(caFile) : undefined).toEqual(caBefore);
  }, 900_000);
});
