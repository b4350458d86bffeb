import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import {
  checkConcurrencyQuota,
  checkJwtSecret,
  checkStageParams,
  databaseBudget,
  DeployError,
  deploymentTimestamps,
  describeSource,
  findPlaceholders,
  findRollbackTarget,
  httpApiUrl,
  isTruthyEnv,
  migrationUrl,
  newCaPinPolicy,
  OFFLINE_STAGES,
  parseDeployArgs,
  proxyPool,
  runSteps,
  smokeTest,
  smokeTestOrRollBack,
  sumReservations,
  type LambdaQuota,
  type StageParams,
} from '../../../scripts/lib/deploy.js';
import { inspectRdsCaBundle, pinsWith, prepareRdsCa, rdsCaUrl, sha256 } from '../../../scripts/lib/rds-ca.js';

// `npm run deploy` without AWS: its pieces, with the effects faked.

describe('parseDeployArgs', () => {
  it('reads --stage and --region, defaulting the region to eu-west-1', () => {
    expect(parseDeployArgs(['--stage', 'prod'])).toEqual({ stage: 'prod', region: 'eu-west-1', dryRun: false, fullTests: false, trustNewCa: false });
    expect(parseDeployArgs(['--stage=dev', '--region=us-east-1'])).toMatchObject({ stage: 'dev', region: 'us-east-1' });
  });

  it('reads --dry-run, --full-tests and --trust-new-ca, which take no value', () => {
    expect(parseDeployArgs(['--stage', 'dev', '--dry-run', '--full-tests', '--trust-new-ca'])).toMatchObject({ dryRun: true, fullTests: true, trustNewCa: true });
    expect(() => parseDeployArgs(['--stage', 'dev', '--dry-run=false'])).toThrow('unknown argument --dry-run=false');
  });

  it('requires a stage and refuses unknown arguments', () => {
    expect(() => parseDeployArgs([])).toThrow('--stage is required');
    expect(() => parseDeployArgs(['--stage', 'prod', '--force'])).toThrow('unknown argument --force');
  });

  it('refuses every offline stage by name, bench included (TLS off, password auth, the shell’s JWT secret)', () => {
    expect(OFFLINE_STAGES).toEqual(['local', 'test', 'bench']);
    for (const stage of ['local', 'test', 'bench']) {
      expect(() => parseDeployArgs(['--stage', stage]), stage).toThrow(`stage "${stage}" is for serverless-offline only`);
      expect(() => parseDeployArgs(['--stage', stage, '--dry-run']), stage).toThrow('serverless-offline only');
    }
  });

  it('names exactly the stages whose params in serverless.yml are the offline ones (TLS off)', () => {
    const { params } = parseYaml(readFileSync(join(import.meta.dirname, '../../../serverless.yml'), 'utf8'));
    const offline = Object.keys(params).filter((stage) => String(params[stage].dbSsl).includes("'disable'"));
    expect(offline.sort()).toEqual([...OFFLINE_STAGES].sort());
  });
});

describe('runSteps', () => {
  it('stops at the first failure, names it and what did not run', async () => {
    const ran: string[] = [];
    const lines: string[] = [];
    const step = (name: string, fail = false) => ({
      name,
      run: async () => {
        ran.push(name);
        if (fail) throw new Error('exit code 1');
      },
    });
    const ok = await runSteps([step('type-check'), step('test', true), step('migrate'), step('deploy')], (l) => lines.push(l));
    expect(ok).toBe(false);
    expect(ran).toEqual(['type-check', 'test']);
    expect(lines).toContain('[deploy] FAILED at step 2/4 (test): exit code 1');
    expect(lines).toContain('[deploy] not run: migrate, deploy');
  });

  it('runs every step when all succeed', async () => {
    const ran: string[] = [];
    const ok = await runSteps(['a', 'b'].map((name) => ({ name, run: async () => void ran.push(name) })), () => {});
    expect(ok).toBe(true);
    expect(ran).toEqual(['a', 'b']);
  });
});

describe('findPlaceholders', () => {
  it('lists every REPLACE-ME left in the template, with its path', () => {
    const template = {
      Resources: {
        Fn: { Properties: { VpcConfig: { SubnetIds: ['subnet-REPLACE-ME-a', 'subnet-0abc'] }, Timeout: 10 } },
      },
    };
    expect(findPlaceholders(template)).toEqual(['Resources.Fn.Properties.VpcConfig.SubnetIds[0]: subnet-REPLACE-ME-a']);
    expect(findPlaceholders({ a: ['subnet-0abc'], b: 1 })).toEqual([]);
  });

  it('flags an example ARN with the all-zero account id', () => {
    expect(findPlaceholders({ Arn: 'arn:aws:secretsmanager:eu-west-1:000000000000:secret:local' })).toEqual([
      'Arn: arn:aws:secretsmanager:eu-west-1:000000000000:secret:local',
    ]);
  });
});

const FUNCTIONS = ['register', 'obtainToken', 'verifyToken', 'getMe', 'listTransactions', 'notFound'];
const stageParams = (over: Partial<StageParams> = {}): StageParams => ({
  dbMaxConnections: 80,
  dbAdminHeadroom: 10,
  useRdsProxy: 'false',
  reservedConcurrency: { register: 2, obtainToken: 10, getMe: 2, listTransactions: 10, verifyToken: 10, notFound: 2 },
  ...over,
});

describe('proxyPool', () => {
  it('rounds the proxy’s share of max_connections down to fit the role’s CONNECTION LIMIT', () => {
    // 90% of 80 = 72 would exceed a role limit of 70.
    expect(proxyPool(80, 70)).toEqual({ maxConnectionsPercent: 87, maxIdleConnectionsPercent: 43 });
    for (const [max, limit] of [[80, 70], [20, 2], [87, 2], [400, 390], [5000, 4990], [100, 1], [3, 2]] as const) {
      const pool = proxyPool(max, limit);
      // RDS Proxy opens up to MaxConnectionsPercent of max_connections, rounded either way.
      expect(Math.ceil((max * pool.maxConnectionsPercent) / 100), `${limit} of ${max}`).toBeLessThanOrEqual(limit);
      expect(pool.maxIdleConnectionsPercent).toBeLessThanOrEqual(pool.maxConnectionsPercent);
      expect(pool.maxConnectionsPercent).toBeGreaterThanOrEqual(1);
    }
  });
});

describe('checkStageParams', () => {
  it('accepts a budget that fits', () => {
    expect(checkStageParams('prod', stageParams(), FUNCTIONS)).toEqual([]);
    expect(sumReservations(stageParams().reservedConcurrency)).toEqual({ database: 24, other: 12, total: 36 });
  });

  it('refuses reservations of connecting functions above the role’s connection limit; caps on the others do not count', () => {
    const over = stageParams({ reservedConcurrency: { ...stageParams().reservedConcurrency, listTransactions: 57 } });
    expect(checkStageParams('prod', over, FUNCTIONS)).toEqual([
      "params.prod.reservedConcurrency gives the functions that connect 71, above the role's connection limit of 70",
    ]);
    const caps = stageParams({ reservedConcurrency: { ...stageParams().reservedConcurrency, verifyToken: 500 } });
    expect(checkStageParams('prod', caps, FUNCTIONS)).toEqual([]);
  });

  it('refuses unknown function names and a reservation list that forgets a connecting function', () => {
    const { getMe: _, ...rest } = stageParams().reservedConcurrency;
    expect(checkStageParams('prod', stageParams({ reservedConcurrency: { ...rest, getMee: 2 } }), FUNCTIONS)).toEqual([
      'params.prod.reservedConcurrency.getMee names no function',
      'params.prod.reservedConcurrency has no entry for getMe, which connect',
    ]);
    // No reservations at all (dev) is allowed: nothing is capped, nothing is forgotten.
    expect(checkStageParams('dev', stageParams({ reservedConcurrency: {} }), FUNCTIONS)).toEqual([]);
  });

  it('refuses RDS Proxy for a role smaller than 1% of the server', () => {
    const tiny = stageParams({ dbMaxConnections: 400, dbAdminHeadroom: 397, useRdsProxy: 'true' });
    expect(checkStageParams('prod', { ...tiny, reservedConcurrency: {} }, FUNCTIONS)).toEqual([
      'params.prod: a role limit of 3 is below 1% of 400 connections, the smallest pool RDS Proxy takes',
    ]);
    // The same role without the proxy is fine: direct mode asks nothing of the proxy.
    expect(checkStageParams('prod', { ...tiny, useRdsProxy: 'false', reservedConcurrency: {} }, FUNCTIONS)).toEqual([]);
  });
});

describe('databaseBudget: everything that depends on the server’s max_connections', () => {
  it('derives the role’s limit from SHOW max_connections, not from serverless.yml’s planned value, and asks no proxy setting in direct mode', () => {
    // serverless.yml plans 80; the instance says 87 (RDS derives it from the instance's memory).
    const budget = databaseBudget('prod', stageParams(), FUNCTIONS, 87);
    expect(budget).toMatchObject({ maxConnections: 87, connectionLimit: 77 });
    expect(budget.proxyPool).toBeUndefined();
    expect(budget.summary).toBe(
      'max_connections 87 (serverless.yml plans 80): role CONNECTION LIMIT 77 (87 - headroom 10), connecting functions reserve 24; direct connections (no RDS Proxy)',
    );
  });

  it('derives the RDS Proxy pool in proxy mode, fitting the role', () => {
    const budget = databaseBudget('prod', stageParams({ useRdsProxy: 'true' }), FUNCTIONS, 87);
    expect(budget.proxyPool).toEqual(proxyPool(87, 77));
    expect(Math.ceil((87 * budget.proxyPool!.maxConnectionsPercent) / 100)).toBeLessThanOrEqual(77);
    expect(databaseBudget('prod', stageParams({ useRdsProxy: 'true' }), FUNCTIONS, 80).summary).toContain(
      'max_connections 80: role CONNECTION LIMIT 70 (80 - headroom 10), connecting functions reserve 24; RDS Proxy pool MaxConnectionsPercent 87, MaxIdleConnectionsPercent 43',
    );
  });

  it('refuses reservations that do not fit the limit the server actually gives, whatever serverless.yml planned', () => {
    // 24 reserved by the connecting functions: fits 80 - 10, not 30 - 10.
    const err = (() => {
      try {
        databaseBudget('prod', stageParams(), FUNCTIONS, 30);
      } catch (e) {
        return e as Error;
      }
    })();
    expect(err).toBeInstanceOf(DeployError);
    expect(err!.message).toBe(
      "with the server's max_connections of 30: params.prod.reservedConcurrency gives the functions that connect 24, above the role's connection limit of 20",
    );
    expect(() => databaseBudget('prod', stageParams(), FUNCTIONS, 10)).toThrow('max_connections (10) must exceed dbAdminHeadroom (10)');
    expect(() => databaseBudget('prod', stageParams(), FUNCTIONS, Number.NaN)).toThrow('SHOW max_connections with NaN');
  });

  it('reaches the template: serverless.yml’s proxy pool follows the dbMaxConnections the deploy passes (scripts/proxy-pool.cjs)', async () => {
    const resolver = createRequire(import.meta.url)('../../../scripts/proxy-pool.cjs');
    const params: Record<string, string | number> = { dbMaxConnections: '87', dbAdminHeadroom: 10 };
    const resolveVariable = async (address: string) => params[address.replace(/^param:/, '')];
    expect(await resolver.maxConnectionsPercent({ resolveVariable })).toBe(proxyPool(87, 77).maxConnectionsPercent);
    expect(await resolver.maxIdleConnectionsPercent({ resolveVariable })).toBe(proxyPool(87, 77).maxIdleConnectionsPercent);
  });
});

describe('checkConcurrencyQuota', () => {
  /** A fake Lambda API: the account's settings and the stage's current reservations. */
  function fakeLambda(limit: number, reservedElsewhere: number, current: Record<string, number> = {}): LambdaQuota & { asked: string[] } {
    const asked: string[] = [];
    const currentTotal = Object.values(current).reduce((a, b) => a + b, 0);
    return {
      asked,
      accountSettings: async () => ({ concurrentExecutions: limit, unreservedConcurrentExecutions: limit - reservedElsewhere - currentTotal }),
      reservedConcurrency: async (name) => {
        asked.push(name);
        return current[name];
      },
    };
  }
  const reserved = { register: 2, obtainToken: 10, refreshToken: 10 };
  const names = ['cashbook-api-prod-register', 'cashbook-api-prod-obtainToken', 'cashbook-api-prod-refreshToken'];

  it('passes when the reservations leave Lambda its 100 unreserved', async () => {
    const lambda = fakeLambda(1000, 0);
    await expect(checkConcurrencyQuota(lambda, { stage: 'prod', functionNames: names, reserved })).resolves.toEqual({
      limit: 1000,
      wanted: 22,
      unreservedAfter: 978,
    });
    expect(lambda.asked).toEqual(names);
  });

  it('stops a new account’s reduced quota with one sentence saying what to request', async () => {
    const err = await checkConcurrencyQuota(fakeLambda(10, 0), { stage: 'prod', functionNames: names, reserved }).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toBe(
      'stage prod reserves 22 concurrent executions, but this account\'s Lambda quota is 10 with 10 not reserved by other functions and 100 always kept unreserved:' +
        ' request a "Concurrent executions" quota of at least 122 (Service Quotas, AWS Lambda, L-B99A9384), or lower params.prod.reservedConcurrency',
    );
    expect(err.message.split('. ')).toHaveLength(1);
  });

  it('counts what the stage already reserves as given back, and what other functions reserve as taken', async () => {
    // An update adding refreshToken's 10 to the 12 already reserved: 1000 - 870 elsewhere - 12 + 12 - 22 = 108.
    const current = { 'cashbook-api-prod-register': 2, 'cashbook-api-prod-obtainToken': 10 };
    await expect(checkConcurrencyQuota(fakeLambda(1000, 870, current), { stage: 'prod', functionNames: names, reserved })).resolves.toMatchObject({
      unreservedAfter: 108,
    });
    await expect(checkConcurrencyQuota(fakeLambda(1000, 880, current), { stage: 'prod', functionNames: names, reserved })).rejects.toThrow(
      'at least 1002',
    );
  });

  it('lets a stage lower or drop its reservations whatever the quota (dev reserves none)', async () => {
    const current = { 'cashbook-api-prod-register': 2 };
    await expect(checkConcurrencyQuota(fakeLambda(10, 0, current), { stage: 'prod', functionNames: names, reserved: { register: 1 } })).resolves.toMatchObject({
      wanted: 1,
    });
    await expect(checkConcurrencyQuota(fakeLambda(10, 0), { stage: 'dev', functionNames: names, reserved: {} })).resolves.toMatchObject({
      wanted: 0,
    });
  });
});

describe('checkJwtSecret: the secret exists before anything changes', () => {
  it('passes for an existing SecureString, read without decryption', async () => {
    const asked: string[] = [];
    await checkJwtSecret(async (name) => (asked.push(name), 'SecureString'), 'prod', '/cashbook/prod/jwt-secret');
    expect(asked).toEqual(['/cashbook/prod/jwt-secret']);
  });

  it('stops with the command that creates a missing one', async () => {
    await expect(checkJwtSecret(async () => undefined, 'prod', '/cashbook/prod/jwt-secret')).rejects.toThrow(
      'the JWT secret /cashbook/prod/jwt-secret does not exist in SSM: create it first (aws ssm put-parameter --name /cashbook/prod/jwt-secret --type SecureString',
    );
  });

  it('refuses a plain String (the secret would sit unencrypted) and an empty param', async () => {
    await expect(checkJwtSecret(async () => 'String', 'prod', '/x')).rejects.toThrow('is a String, not a SecureString');
    await expect(checkJwtSecret(async () => 'SecureString', 'dev', '')).rejects.toThrow('params.dev.jwtSecretParameter is empty');
  });
});

describe('deploymentTimestamps', () => {
  it('reads the timestamps of `serverless deploy list`, oldest first', () => {
    const out = [
      '2026-11-01 10:00:00 UTC', 'Timestamp: 1761991200000', 'Files:', '  - compiled-cloudformation-template.json',
      '2026-11-02 10:00:00 UTC', 'Timestamp: 1762077600000', 'Files:', '  - getMe.zip', '',
    ].join('\n');
    expect(deploymentTimestamps(out)).toEqual(['1761991200000', '1762077600000']);
    expect(deploymentTimestamps('No deployments found')).toEqual([]);
  });
});

describe('findRollbackTarget: a failed smoke test never goes without its rollback', () => {
  const failing = (message: string) => async () => {
    throw new DeployError(`serverless deploy list exited with 1:\n${message}`);
  };

  it('takes the latest stored deployment', async () => {
    const list = async () => 'Timestamp: 1761991200000\nFiles:\nTimestamp: 1762077600000\nFiles:\n';
    await expect(findRollbackTarget(list, 'cashbook-api-prod')).resolves.toEqual({ firstDeploy: false, timestamp: '1762077600000' });
  });

  it('calls it a first deploy only when CloudFormation says the stack does not exist', async () => {
    await expect(
      findRollbackTarget(failing("Error:\nStack 'cashbook-api-prod' does not exist"), 'cashbook-api-prod'),
    ).resolves.toEqual({ firstDeploy: true });
    await expect(findRollbackTarget(failing('ValidationError: Stack with id cashbook-api-prod does not exist'), 'cashbook-api-prod')).resolves.toEqual({
      firstDeploy: true,
    });
  });

  it('stops the deploy, before anything changes, on any other failure (credentials, permissions, network, another stack)', async () => {
    for (const message of [
      'AWS provider credentials not found.',
      'User: arn:aws:iam::123456789012:user/ci is not authorized to perform: cloudformation:DescribeStackResource',
      'getaddrinfo ENOTFOUND cloudformation.eu-west-1.amazonaws.com',
      "Stack 'cashbook-api-dev' does not exist",
      'Resource ServerlessDeploymentBucket does not exist for stack cashbook-api-prod',
    ]) {
      const err = await findRollbackTarget(failing(message), 'cashbook-api-prod').catch((e) => e);
      expect(err, message).toBeInstanceOf(DeployError);
      expect(err.message, message).toContain('cannot tell which deployment a failed smoke test would roll back to, so nothing was changed');
      expect(err.message, message).toContain(message);
    }
  });

  it('stops when the stack exists but holds no deployment to roll back to', async () => {
    const list = async () => "No deployments found, if that's unexpected ensure that stage and region are correct";
    await expect(findRollbackTarget(list, 'cashbook-api-prod')).rejects.toThrow('shows no stored deployment to roll back to, so nothing was changed');
  });
});

describe('RDS CA pins', () => {
  it('needs nothing for a pinned bundle, anywhere', () => {
    expect(newCaPinPolicy({ pin: 'matched', region: 'eu-west-1', ci: true, trustNewCa: false })).toBe('none');
  });

  it('records a new region’s pin after the deploy succeeds on a workstation', () => {
    expect(newCaPinPolicy({ pin: 'new', region: 'eu-west-1', ci: false, trustNewCa: false })).toBe('record');
  });

  it('refuses a region without a pin under CI unless --trust-new-ca', () => {
    expect(() => newCaPinPolicy({ pin: 'new', region: 'eu-west-1', ci: true, trustNewCa: false })).toThrow(
      'no pin for eu-west-1 in certs/rds-ca-pins.json, and under CI a CA bundle is not trusted on first use',
    );
    expect(newCaPinPolicy({ pin: 'new', region: 'eu-west-1', ci: true, trustNewCa: true })).toBe('record');
    expect([isTruthyEnv('true'), isTruthyEnv('1'), isTruthyEnv('TRUE'), isTruthyEnv(undefined), isTruthyEnv('false'), isTruthyEnv('')]).toEqual([
      true, true, true, false, false, false,
    ]);
  });

  it('writes the pins file with regions in order, so the commit is a one-line diff', () => {
    expect(pinsWith({ 'us-east-1': 'b'.repeat(64) }, 'eu-west-1', 'a'.repeat(64))).toBe(
      `{\n  "eu-west-1": "${'a'.repeat(64)}",\n  "us-east-1": "${'b'.repeat(64)}"\n}\n`,
    );
  });

  it('starts with a pins file that parses (empty until a first deploy of a region is committed)', () => {
    const pins = JSON.parse(readFileSync(join(import.meta.dirname, '../../../certs/rds-ca-pins.json'), 'utf8'));
    for (const [region, hash] of Object.entries(pins)) expect(`${region} ${hash}`).toMatch(/^[a-z]{2}(-[a-z]+)+-\d [0-9a-f]{64}$/);
  });
});

describe('describeSource: which commit’s CI run the deploy relies on', () => {
  const git = (answers: Record<string, string | Error>) => async (args: string[]) => {
    const answer = answers[args[0]!];
    if (answer instanceof Error) throw answer;
    return answer ?? '';
  };

  it('names the commit of a clean tree', async () => {
    const source = await describeSource(git({ 'rev-parse': 'abc123\n', status: '' }));
    expect(source).toMatchObject({ commit: 'abc123', dirty: [] });
    expect(source.lines).toEqual([expect.stringMatching(/^\[deploy\] commit abc123: the full suite \(npm test.*\) is CI's run of this commit/)]);
  });

  it('says loudly that a dirty tree deploys code no CI run has seen, listing the changes', async () => {
    const source = await describeSource(git({ 'rev-parse': 'abc123', status: ' M lib/money.ts\n?? scratch.sql\n' }));
    expect(source.dirty).toEqual([' M lib/money.ts', '?? scratch.sql']);
    expect(source.lines.slice(1)).toEqual([
      '[deploy] WARNING: THE WORKING TREE HAS 2 UNCOMMITTED CHANGE(S): this deploys code that no commit holds and no CI run has tested:',
      '[deploy]    M lib/money.ts',
      '[deploy]   ?? scratch.sql',
    ]);
  });

  it('warns outside a git checkout', async () => {
    const source = await describeSource(git({ 'rev-parse': new Error('not a git repository') }));
    expect(source.commit).toBe('unknown');
    expect(source.lines[0]).toContain('WARNING: not a git checkout');
  });
});

describe('RDS CA bundle', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cashbook-rds-ca-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const ca = (cn: string, days = 2, extra: string[] = []) => {
    const key = join(dir, `${cn.replace(/\W/g, '_')}.key`);
    const pem = join(dir, `${cn.replace(/\W/g, '_')}.pem`);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', String(days),
      '-subj', cn.startsWith('/') ? cn : `/C=US/O=Amazon Web Services, Inc./OU=Amazon RDS/CN=${cn}`, '-keyout', key, '-out', pem, ...extra], { stdio: 'pipe' });
    return readFileSync(pem, 'utf8');
  };
  const bundle = ca('Amazon RDS eu-west-1 Root CA RSA2048 G1') + ca('Amazon RDS eu-west-1 Root CA ECC384 G1');
  const fetchOf = (body: string, status = 200) => {
    const urls: string[] = [];
    return { urls, fetch: async (url: string) => (urls.push(url), { ok: status === 200, status, text: async () => body }) };
  };
  const noFile = async () => {
    throw new Error('not read');
  };

  it('fetches the region’s bundle from AWS’s trust store, lists its CAs and reports a first pin', async () => {
    const f = fetchOf(bundle);
    const prepared = await prepareRdsCa({ region: 'eu-west-1', fetch: f.fetch, readFile: noFile, pins: {} });
    expect(f.urls).toEqual(['https://truststore.pki.rds.amazonaws.com/eu-west-1/eu-west-1-bundle.pem']);
    expect(rdsCaUrl('eu-west-1')).toBe(f.urls[0]);
    expect(prepared).toMatchObject({ pem: bundle, sha256: sha256(bundle), pin: 'new' });
    expect(prepared.certificates.map((c) => c.subject)).toEqual([
      expect.stringContaining('CN=Amazon RDS eu-west-1 Root CA RSA2048 G1'),
      expect.stringContaining('CN=Amazon RDS eu-west-1 Root CA ECC384 G1'),
    ]);
  });

  it('accepts the pinned bundle and stops on any other, naming both hashes', async () => {
    await expect(prepareRdsCa({ region: 'eu-west-1', fetch: fetchOf(bundle).fetch, readFile: noFile, pins: { 'eu-west-1': sha256(bundle) } })).resolves.toMatchObject({
      pin: 'matched',
    });
    const changed = bundle + ca('Amazon RDS eu-west-1 Root CA RSA4096 G1');
    const err = await prepareRdsCa({ region: 'eu-west-1', fetch: fetchOf(changed).fetch, readFile: noFile, pins: { 'eu-west-1': sha256(bundle) } }).catch((e) => e);
    expect(err).toBeInstanceOf(DeployError);
    expect(err.message).toContain(`has SHA-256 ${sha256(changed)}, not the ${sha256(bundle)} pinned in certs/rds-ca-pins.json`);
    expect(err.message).toContain('Root CA RSA4096 G1');
  });

  it('takes a file the deployer supplies instead of fetching', async () => {
    const f = fetchOf('');
    const prepared = await prepareRdsCa({ region: 'eu-west-1', suppliedFile: '/my/rds.pem', fetch: f.fetch, readFile: async () => bundle, pins: {} });
    expect(prepared).toMatchObject({ source: '/my/rds.pem', sha256: sha256(bundle) });
    expect(f.urls).toEqual([]);
  });

  it('refuses what is not the region’s RDS CAs: no certificate, another issuer, another region, a leaf, all expired, an HTTP error', async () => {
    expect(() => inspectRdsCaBundle('<html>not found</html>', 'eu-west-1')).toThrow('holds no PEM certificate');
    expect(() => inspectRdsCaBundle(ca('/O=Evil/CN=Evil eu-west-1 Root CA'), 'eu-west-1')).toThrow('not issued for Amazon RDS');
    expect(() => inspectRdsCaBundle(bundle, 'us-east-1')).toThrow('names no CA of region us-east-1');
    const leaf = ca('Amazon RDS eu-west-1 leaf', 2, ['-addext', 'basicConstraints=critical,CA:FALSE']);
    expect(() => inspectRdsCaBundle(leaf, 'eu-west-1')).toThrow('not a CA');
    expect(() => inspectRdsCaBundle(bundle, 'eu-west-1', new Date(Date.now() + 10 * 86_400_000))).toThrow('expired');
    await expect(prepareRdsCa({ region: 'eu-west-1', fetch: fetchOf('', 404).fetch, readFile: noFile, pins: {} })).rejects.toThrow(
      'answered HTTP 404',
    );
  });
});

describe('httpApiUrl', () => {
  it('reads the HttpApiUrl stack output from `serverless info --verbose`', () => {
    const info = 'service: cashbook-api\nstage: prod\n\nStack Outputs:\n  HttpApiId: abc123\n  HttpApiUrl: https://abc123.execute-api.eu-west-1.amazonaws.com\n';
    expect(httpApiUrl(info)).toBe('https://abc123.execute-api.eu-west-1.amazonaws.com');
  });

  it('fails clearly when there is none', () => {
    expect(() => httpApiUrl('Stack Outputs:\n')).toThrow(DeployError);
  });
});

describe('migrationUrl', () => {
  const sign = async (t: { hostname: string; port: number; username: string; region: string }) =>
    `${t.hostname}:${t.port}/?Action=connect&DBUser=${t.username}&Region=${t.region}&X-Amz-Signature=abc`;

  it('requires MIGRATE_DATABASE_URL', async () => {
    await expect(migrationUrl({}, 'eu-west-1', sign)).rejects.toThrow('MIGRATE_DATABASE_URL');
  });

  it('uses the URL as is with password auth', async () => {
    const url = 'postgres://owner:pw@db.example:5432/cashbook?sslmode=verify-full';
    await expect(migrationUrl({ MIGRATE_DATABASE_URL: url }, 'eu-west-1', sign)).resolves.toBe(url);
  });

  it('puts an IAM token for the URL’s host, port and user in the password with MIGRATE_DB_AUTH=iam', async () => {
    const url = await migrationUrl(
      { MIGRATE_DATABASE_URL: 'postgres://cashbook_owner@db.example:6543/cashbook?sslmode=verify-full', MIGRATE_DB_AUTH: 'iam' },
      'eu-west-1',
      sign,
    );
    const parsed = new URL(url);
    expect(decodeURIComponent(parsed.password)).toBe(
      'db.example:6543/?Action=connect&DBUser=cashbook_owner&Region=eu-west-1&X-Amz-Signature=abc',
    );
    expect(parsed.username).toBe('cashbook_owner');
    expect(parsed.searchParams.get('sslmode')).toBe('verify-full');
  });

  it('refuses IAM auth without TLS or with a password in the URL', async () => {
    const env = (u: string) => ({ MIGRATE_DATABASE_URL: u, MIGRATE_DB_AUTH: 'iam' });
    await expect(migrationUrl(env('postgres://o@db.example/cashbook'), 'eu-west-1', sign)).rejects.toThrow('needs TLS');
    await expect(migrationUrl(env('postgres://o:pw@db.example/cashbook?sslmode=require'), 'eu-west-1', sign)).rejects.toThrow(
      'leave the password out',
    );
  });
});

describe('smokeTest', () => {
  const reply = (status: number, body: string) => new Response(body, { status });
  const HEALTHY = '{"status":"ok","database":"ok"}';
  const WRONG_TOKEN = '{"detail":"Given token not valid for any token type","code":"token_not_valid"}';

  /** A fake API: answers per path from a queue (the last answer repeats), recording requests. */
  function fakeApi(answers: Record<string, Array<() => Response>>) {
    const requests: Array<{ url: string; authorization?: string }> = [];
    const fake = (async (url: string, init?: RequestInit) => {
      requests.push({ url, authorization: (init?.headers as Record<string, string> | undefined)?.Authorization });
      const queue = answers[new URL(url).pathname]!;
      return (queue.length > 1 ? queue.shift()! : queue[0]!)();
    }) as unknown as typeof fetch;
    return { fake, requests };
  }

  it('proves the database (health) and the JWT secret (a well-formed token signed by another key gets 401), retrying while the stage settles', async () => {
    const api = fakeApi({
      '/api/health/': [() => reply(503, '{"code":"database_unavailable"}'), () => reply(200, HEALTHY)],
      '/api/me/': [() => reply(401, WRONG_TOKEN)],
    });
    await smokeTest('https://api.example', { fetch: api.fake, delayMs: 1 });
    expect(api.requests.map((r) => r.url)).toEqual([
      'https://api.example/api/health/',
      'https://api.example/api/health/',
      'https://api.example/api/me/',
    ]);
    const token = api.requests[2]!.authorization!.replace(/^Bearer /, '');
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'HS256' });
    expect(decodeJwt(token)).toMatchObject({ token_type: 'access', user_id: 1 });
  });

  it('names the database when health never answers 200', async () => {
    const api = fakeApi({ '/api/health/': [() => reply(503, '{"code":"database_unavailable"}')], '/api/me/': [() => reply(401, WRONG_TOKEN)] });
    await expect(smokeTest('https://api.example', { fetch: api.fake, attempts: 2, delayMs: 1 })).rejects.toThrow(
      /^smoke test: the database failed at GET https:\/\/api.example\/api\/health\/ \(last: HTTP 503/,
    );
  });

  it('names the JWT secret when an authenticated route answers 503 (SSM unreachable) or 500, not 401', async () => {
    for (const [status, body] of [
      [503, '{"code":"dependency_unavailable","dependency":"ssm"}'],
      [500, '{"detail":"A server error occurred."}'],
    ] as const) {
      const api = fakeApi({ '/api/health/': [() => reply(200, HEALTHY)], '/api/me/': [() => reply(status, body)] });
      const err = await smokeTest('https://api.example', { fetch: api.fake, attempts: 2, delayMs: 1 }).catch((e) => e);
      expect(err.message).toMatch(new RegExp(`^smoke test: the JWT secret \\(SSM\\) failed at GET .*/api/me/ \\(last: HTTP ${status}`));
    }
  });
});

describe('smokeTestOrRollBack', () => {
  const failing = async () => {
    throw new DeployError('smoke test: the JWT secret (SSM) failed');
  };

  it('rolls the code back to the previous deployment when the smoke test fails', async () => {
    const rolledBack: string[] = [];
    const err = await smokeTestOrRollBack({ smoke: failing, previous: '1762077600000', rollback: async (t) => void rolledBack.push(t), log: () => {} }).catch(
      (e) => e,
    );
    expect(rolledBack).toEqual(['1762077600000']);
    expect(err.message).toBe('smoke test: the JWT secret (SSM) failed; rolled back to deployment 1762077600000 (the migrations stay applied)');
  });

  it('says so when a first deploy has nothing to roll back to, and when the rollback fails too', async () => {
    await expect(smokeTestOrRollBack({ smoke: failing, previous: undefined, rollback: async () => {}, log: () => {} })).rejects.toThrow(
      'first deploy of this stage, so there is no earlier deployment to roll back to',
    );
    const rollback = async () => {
      throw new Error('serverless rollback exited with 1');
    };
    await expect(smokeTestOrRollBack({ smoke: failing, previous: '1', rollback, log: () => {} })).rejects.toThrow(
      'the rollback to deployment 1 failed too: serverless rollback exited with 1',
    );
  });

  it('does nothing more when the smoke test passes', async () => {
    let rolledBack = false;
    await smokeTestOrRollBack({ smoke: async () => {}, previous: '1', rollback: async () => void (rolledBack = true), log: () => {} });
    expect(rolledBack).toBe(false);
  });
});

describe('run', () => {
  it('puts a captured command’s output in its failure (osls prints its errors on stdout)', async () => {
    const { run } = await import('../../../scripts/lib/deploy.js');
    await expect(run(process.execPath, ['-e', 'console.log("Value not found at \\"param\\" source"); process.exit(1)'], { capture: true })).rejects.toThrow(
      /exited with 1:\nValue not found at "param" source/,
    );
  });
});
