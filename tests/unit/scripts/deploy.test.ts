import { describe, expect, it } from 'vitest';
import {
  DeployError,
  findPlaceholders,
  httpApiUrl,
  migrationUrl,
  parseDeployArgs,
  runSteps,
  smokeTest,
} from '../../../scripts/lib/deploy.js';

// `npm run deploy` without AWS: its pieces, with the effects faked.

describe('parseDeployArgs', () => {
  it('reads --stage and --region, defaulting the region to eu-west-1', () => {
    expect(parseDeployArgs(['--stage', 'prod'])).toEqual({ stage: 'prod', region: 'eu-west-1' });
    expect(parseDeployArgs(['--stage=dev', '--region=us-east-1'])).toEqual({ stage: 'dev', region: 'us-east-1' });
  });

  it('requires a stage and refuses the offline-only stages', () => {
    expect(() => parseDeployArgs([])).toThrow('--stage is required');
    expect(() => parseDeployArgs(['--stage', 'local'])).toThrow('serverless-offline only');
    expect(() => parseDeployArgs(['--stage', 'prod', '--force'])).toThrow('unknown argument --force');
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

  it('passes once /api/health/ answers 200 with a healthy database, retrying until then', async () => {
    const urls: string[] = [];
    const answers = [reply(503, '{"code":"database_unavailable"}'), reply(200, '{"status":"ok","database":"ok"}')];
    const fake = (async (url: string) => {
      urls.push(url);
      return answers.shift()!;
    }) as unknown as typeof fetch;
    await smokeTest('https://api.example', { fetch: fake, delayMs: 1 });
    expect(urls).toEqual(['https://api.example/api/health/', 'https://api.example/api/health/']);
  });

  it('gives up after its attempts with the last answer in the message', async () => {
    const fake = (async () => reply(503, '{"code":"database_unavailable"}')) as unknown as typeof fetch;
    await expect(smokeTest('https://api.example', { fetch: fake, attempts: 2, delayMs: 1 })).rejects.toThrow(
      /did not answer 200.*HTTP 503/,
    );
  });
});
