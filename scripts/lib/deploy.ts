import { spawn } from 'node:child_process';

// The pieces of `npm run deploy`, kept pure (or with injectable effects) so they are tested
// without AWS: argument parsing, step runner, placeholder check, migration URL, smoke test.

export interface DeployArgs {
  stage: string;
  region: string;
}

export class DeployError extends Error {
  override readonly name = 'DeployError';
}

export function parseDeployArgs(argv: string[]): DeployArgs {
  const args: Partial<DeployArgs> = {};
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--stage' || flag === '-s') args.stage = value();
    else if (flag === '--region' || flag === '-r') args.region = value();
    else throw new DeployError(`unknown argument ${flag} (usage: npm run deploy -- --stage <stage> [--region <region>])`);
  }
  if (!args.stage) throw new DeployError('--stage is required (usage: npm run deploy -- --stage <stage> [--region <region>])');
  if (!/^[a-zA-Z0-9-]+$/.test(args.stage)) throw new DeployError(`invalid stage name "${args.stage}"`);
  if (['local', 'test'].includes(args.stage)) throw new DeployError(`stage "${args.stage}" is for serverless-offline only`);
  return { stage: args.stage, region: args.region ?? 'eu-west-1' };
}

export interface Step {
  name: string;
  run(): Promise<void>;
}

/** Runs the steps in order and stops at the first failure, naming it. */
export async function runSteps(steps: Step[], log: (line: string) => void): Promise<boolean> {
  for (const [i, step] of steps.entries()) {
    const started = Date.now();
    log(`[deploy] ${i + 1}/${steps.length} ${step.name} ...`);
    try {
      await step.run();
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      log(`[deploy] FAILED at step ${i + 1}/${steps.length} (${step.name}): ${reason}`);
      const skipped = steps.slice(i + 1).map((s) => s.name);
      if (skipped.length) log(`[deploy] not run: ${skipped.join(', ')}`);
      return false;
    }
    log(`[deploy] ${i + 1}/${steps.length} ${step.name} done (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  return true;
}

/** Runs a command with inherited output; rejects with its exit code. */
export function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; capture?: boolean } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['ignore', options.capture ? 'pipe' : 'inherit', 'inherit'] });
    let out = '';
    child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(out) : reject(new DeployError(`${[command, ...args].join(' ')} exited with ${code}`)),
    );
  });
}

/** JSON paths of template values still holding a REPLACE-ME placeholder from serverless.yml's params. */
export function findPlaceholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return value.includes('REPLACE-ME') ? [`${path}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findPlaceholders(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findPlaceholders(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/** The API's base URL from `serverless info --verbose` (its stack outputs). */
export function httpApiUrl(infoOutput: string): string {
  const match = /HttpApiUrl:\s*(https:\/\/\S+)/.exec(infoOutput);
  if (!match) throw new DeployError('no HttpApiUrl in `serverless info --verbose` output');
  return match[1]!.replace(/\/$/, '');
}

export type TokenSigner = (target: { hostname: string; port: number; username: string; region: string }) => Promise<string>;

/**
 * The migration's connection URL. MIGRATE_DATABASE_URL names an owner/admin role; with
 * MIGRATE_DB_AUTH=iam and no password in it, an IAM token (valid 15 minutes, plenty for a
 * migration) becomes the password. TLS is then required.
 */
export async function migrationUrl(
  env: { MIGRATE_DATABASE_URL?: string; MIGRATE_DB_AUTH?: string; AWS_REGION?: string },
  region: string,
  sign: TokenSigner,
): Promise<string> {
  if (!env.MIGRATE_DATABASE_URL) {
    throw new DeployError('set MIGRATE_DATABASE_URL to an owner/admin URL of the stage database (see docs/deploy.md)');
  }
  const url = new URL(env.MIGRATE_DATABASE_URL);
  if (env.MIGRATE_DB_AUTH !== 'iam') return url.toString();
  if (url.password) throw new DeployError('MIGRATE_DB_AUTH=iam: leave the password out of MIGRATE_DATABASE_URL');
  const sslmode = url.searchParams.get('sslmode');
  if (sslmode !== 'verify-full' && sslmode !== 'require') {
    throw new DeployError('MIGRATE_DB_AUTH=iam needs TLS: add ?sslmode=verify-full (and sslrootcert=<RDS CA bundle>)');
  }
  const token = await sign({
    hostname: url.hostname,
    port: Number(url.port || 5432),
    username: decodeURIComponent(url.username),
    region: env.AWS_REGION ?? region,
  });
  url.password = token;
  return url.toString();
}

/** GET <base>/api/health/ until it answers 200 {status: ok, database: ok}, or give up. */
export async function smokeTest(
  baseUrl: string,
  options: { attempts?: number; delayMs?: number; fetch?: typeof fetch; log?: (line: string) => void } = {},
): Promise<void> {
  const { attempts = 12, delayMs = 5_000, log = () => {} } = options;
  const get = options.fetch ?? fetch;
  let last = '';
  for (let i = 1; i <= attempts; i++) {
    try {
      const res = await get(`${baseUrl}/api/health/`, { signal: AbortSignal.timeout(15_000) });
      const body = await res.text();
      if (res.status === 200 && /"database"\s*:\s*"ok"/.test(body)) return;
      last = `HTTP ${res.status} ${body.slice(0, 200)}`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    log(`[deploy] health check ${i}/${attempts}: ${last}`);
    if (i < attempts) await new Promise((r) => setTimeout(r, delayMs));
  }
  throw new DeployError(`${baseUrl}/api/health/ did not answer 200 with a healthy database (last: ${last})`);
}
