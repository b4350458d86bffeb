import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

// The offline stages take their settings from the shell (TLS off, password auth, the JWT secret in
// the function environment, unthrottled): serverless itself refuses to put them in AWS, through
// the local plugin scripts/serverless-offline-stages.cjs, whoever runs it and however.

const root = fileURLToPath(new URL('../..', import.meta.url));
const OFFLINE_STAGES: string[] = JSON.parse(readFileSync(join(root, 'scripts/lib/offline-stages.json'), 'utf8'));
const dir = mkdtempSync(join(tmpdir(), 'cashbook-offline-stages-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `serverless <args>` with no AWS credentials anywhere. */
function sls(args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'node_modules/serverless/bin/serverless.js'), ...args, '--region', 'eu-west-1'],
      {
        cwd: root,
        env: {
          PATH: process.env.PATH,
          HOME: dir,
          AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
          AWS_EC2_METADATA_DISABLED: 'true',
        },
        timeout: 280_000,
        maxBuffer: 16 * 1024 * 1024,
      },
      (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, output: stdout + stderr }),
    );
  });
}

describe('offline stages (local, test, bench) and serverless itself', () => {
  it('lists the stages that share serverless.yml’s offline params', () => {
    const params = parseYaml(readFileSync(join(root, 'serverless.yml'), 'utf8')).params;
    expect(OFFLINE_STAGES).toEqual(['local', 'test', 'bench']);
    for (const stage of OFFLINE_STAGES) expect(params[stage], stage).toEqual(params.local);
    for (const stage of ['dev', 'prod']) expect(params[stage], stage).not.toEqual(params.local);
  });

  it('refuses `serverless deploy --stage bench` with its own message, before any AWS call', async () => {
    const { code, output } = await sls(['deploy', '--stage', 'bench']);
    expect(code).not.toBe(0);
    expect(output).toContain('Stage "bench" is an offline stage');
    expect(output).not.toMatch(/credentials/i);
  });

  it.each([
    'deploy function --function getHealth --stage local',
    'deploy --stage test --package nowhere',
    'rollback --timestamp 1 --stage local',
  ])('refuses `serverless %s`', async (command) => {
    const { code, output } = await sls(command.split(' '));
    expect(code).not.toBe(0);
    expect(output).toMatch(/Stage "(local|test)" is an offline stage/);
  });

  it('still packages an offline stage (serverless offline loads the same plugin list)', async () => {
    const { code, output } = await sls(['package', '--stage', 'bench', '--package', join(dir, 'bench')]);
    expect(output, output).not.toContain('offline stage');
    expect(code, output).toBe(0);
    expect(existsSync(join(dir, 'bench', 'cloudformation-template-update-stack.json'))).toBe(true);
  }, 300_000);
});
