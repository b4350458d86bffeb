import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { FALLBACKS, ROUTES } from '../../lib/routes/index.js';

// The pieces of `npm run deploy`, kept pure (or with injectable effects) so they are tested
// without AWS: argument parsing, step runner, stage checks (connection budget, RDS Proxy pool,
// Lambda concurrency quota), placeholder check, migration URL, smoke test and rollback.

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
    // A captured command's output is the only place its error is shown (osls prints errors on stdout).
    child.on('exit', (code) =>
      code === 0
        ? resolve(out)
        : reject(new DeployError(`${[command, ...args].join(' ')} exited with ${code}${options.capture && out.trim() ? `:\n${out.trim().slice(-2000)}` : ''}`)),
    );
  });
}

/**
 * JSON paths of template values still holding a placeholder: REPLACE-ME from serverless.yml's
 * params, or the all-zero account id of an example ARN.
 */
export function findPlaceholders(value: unknown, path = ''): string[] {
  if (typeof value === 'string') return /REPLACE-ME|:000000000000:/.test(value) ? [`${path}: ${value}`] : [];
  if (Array.isArray(value)) return value.flatMap((v, i) => findPlaceholders(v, `${path}[${i}]`));
  if (value && typeof value === 'object') {
    return Object.entries(value).flatMap(([k, v]) => findPlaceholders(v, path ? `${path}.${k}` : k));
  }
  return [];
}

/** Functions that never open a database connection (lib/routes/): outside the connection budget. */
export const NO_DATABASE_FUNCTIONS = [
  ...Object.entries(ROUTES)
    .filter(([, route]) => !route.database)
    .map(([name]) => name),
  ...Object.keys(FALLBACKS),
];

/** Lambda keeps this much of an account's concurrency unreserved; no reservation may take it. */
const LAMBDA_MIN_UNRESERVED = 100;

/** The stage params these checks read (serverless.yml, `params.<stage>`). */
export interface StageParams {
  dbMaxConnections: number;
  dbAdminHeadroom: number;
  useRdsProxy: string;
  proxyMaxConnectionsPercent: number;
  proxyMaxIdleConnectionsPercent: number;
  reservedConcurrency: Record<string, number>;
}

/** The application role's CONNECTION LIMIT: the server's slots minus those kept for admins. */
export const connectionLimit = (p: Pick<StageParams, 'dbMaxConnections' | 'dbAdminHeadroom'>) =>
  Number(p.dbMaxConnections) - Number(p.dbAdminHeadroom);

/**
 * RDS Proxy's pool for a role limited to `limit` connections on a server with `maxConnections`:
 * the proxy opens up to MaxConnectionsPercent of max_connections, and every one of them logs in
 * as the application role, so the share is rounded down to fit the role's CONNECTION LIMIT
 * (90% of 80 = 72 would exceed a limit of 70, and the database would refuse the rest). Idle
 * connections kept: half of that, never more than the pool.
 */
export function proxyPool(maxConnections: number, limit: number): { maxConnectionsPercent: number; maxIdleConnectionsPercent: number } {
  const max = Math.max(1, Math.min(100, Math.floor((100 * limit) / maxConnections)));
  return { maxConnectionsPercent: max, maxIdleConnectionsPercent: Math.floor(max / 2) };
}

export interface Reservations {
  /** Functions that connect: at most one connection each. */
  database: number;
  /** Caps on functions that never connect. */
  other: number;
  total: number;
}

export function sumReservations(reserved: Record<string, number>): Reservations {
  let database = 0;
  let other = 0;
  for (const [fn, n] of Object.entries(reserved)) {
    if (NO_DATABASE_FUNCTIONS.includes(fn)) other += Number(n);
    else database += Number(n);
  }
  return { database, other, total: database + other };
}

/**
 * What would make the stage's params unsafe to deploy, one sentence each: reservations of the
 * functions that connect beyond the role's connection limit, reservations naming no function,
 * a stage with reservations that leaves a connecting function without one, a proxy pool that does
 * not fit the role.
 */
export function checkStageParams(stage: string, params: StageParams, functions: string[]): string[] {
  const problems: string[] = [];
  const limit = connectionLimit(params);
  if (!(limit >= 1)) problems.push(`params.${stage}: dbMaxConnections must exceed dbAdminHeadroom`);
  const reserved = params.reservedConcurrency ?? {};
  for (const fn of Object.keys(reserved)) {
    if (!functions.includes(fn)) problems.push(`params.${stage}.reservedConcurrency.${fn} names no function`);
  }
  const sums = sumReservations(reserved);
  if (sums.database > limit) {
    problems.push(`params.${stage}.reservedConcurrency gives the functions that connect ${sums.database}, above the role's connection limit of ${limit}`);
  }
  if (Object.keys(reserved).length) {
    const missing = functions.filter((fn) => !NO_DATABASE_FUNCTIONS.includes(fn) && !(fn in reserved));
    if (missing.length) problems.push(`params.${stage}.reservedConcurrency has no entry for ${missing.join(', ')}, which connect`);
  }
  const pool = proxyPool(Number(params.dbMaxConnections), limit);
  if (params.useRdsProxy === 'true' && Math.ceil((Number(params.dbMaxConnections) * pool.maxConnectionsPercent) / 100) > limit) {
    problems.push(`params.${stage}: a role limit of ${limit} is below 1% of ${params.dbMaxConnections} connections, the smallest pool RDS Proxy takes`);
  }
  if (
    Number(params.proxyMaxConnectionsPercent) !== pool.maxConnectionsPercent ||
    Number(params.proxyMaxIdleConnectionsPercent) !== pool.maxIdleConnectionsPercent
  ) {
    problems.push(
      `params.${stage}: set proxyMaxConnectionsPercent: ${pool.maxConnectionsPercent} and proxyMaxIdleConnectionsPercent: ${pool.maxIdleConnectionsPercent} ` +
        `(the proxy's pool must fit the role's ${limit} of ${params.dbMaxConnections} connections)`,
    );
  }
  return problems;
}

/** What `npm run deploy` asks Lambda (GetAccountSettings, GetFunctionConcurrency); injected in tests. */
export interface LambdaQuota {
  accountSettings(): Promise<{ concurrentExecutions: number; unreservedConcurrentExecutions: number }>;
  /** The function's reserved concurrency now; undefined when it has none or does not exist yet. */
  reservedConcurrency(functionName: string): Promise<number | undefined>;
}

/**
 * Checks that the stage's reservations fit the account before CloudFormation tries: the account's
 * unreserved concurrency, plus what this stage's functions reserve today (given back on update),
 * minus what they will reserve, must leave Lambda its 100. New accounts start with a reduced
 * quota (as low as 10), below which nothing can be reserved at all.
 */
export async function checkConcurrencyQuota(
  lambda: LambdaQuota,
  options: { stage: string; functionNames: string[]; reserved: Record<string, number> },
): Promise<{ limit: number; wanted: number; unreservedAfter: number }> {
  const wanted = sumReservations(options.reserved).total;
  const { concurrentExecutions: limit, unreservedConcurrentExecutions: unreserved } = await lambda.accountSettings();
  const current = (await Promise.all(options.functionNames.map((f) => lambda.reservedConcurrency(f)))).reduce<number>(
    (sum, n) => sum + (n ?? 0),
    0,
  );
  const unreservedAfter = unreserved + current - wanted;
  // Lambda refuses a reservation that leaves less than its minimum; lowering one always works.
  if (wanted > current && unreservedAfter < LAMBDA_MIN_UNRESERVED) {
    const needed = limit + LAMBDA_MIN_UNRESERVED - unreservedAfter;
    throw new DeployError(
      `stage ${options.stage} reserves ${wanted} concurrent executions, but this account's Lambda quota is ${limit}` +
        ` with ${unreserved + current} not reserved by other functions and ${LAMBDA_MIN_UNRESERVED} always kept unreserved:` +
        ` request a "Concurrent executions" quota of at least ${needed} (Service Quotas, AWS Lambda, L-B99A9384), or lower params.${options.stage}.reservedConcurrency`,
    );
  }
  return { limit, wanted, unreservedAfter };
}

/** Deployment timestamps from `serverless deploy list`, oldest first. */
export function deploymentTimestamps(listOutput: string): string[] {
  return [...listOutput.matchAll(/^Timestamp: (\d+)\s*$/gm)].map((m) => m[1]!);
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

/** A well-formed access token (SimpleJWT's claims, HS256) signed with a random key: never valid. */
async function wrongKeyToken(): Promise<string> {
  return new SignJWT({ token_type: 'access', user_id: 1, jti: randomUUID().replace(/-/g, '') })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(randomBytes(32));
}

interface SmokeCheck {
  /** What the check proves works, named in the failure. */
  dependency: string;
  path: string;
  headers?: Record<string, string>;
  passes(status: number, body: string): boolean;
}

/**
 * Proves every dependency of the deployed stage, retrying each check while the stage settles:
 * the database (GET /api/health/ answers 200 with database ok) and the JWT secret in SSM (GET
 * /api/me/ with a well-formed token signed by another key answers 401, which it can only do
 * after reading the secret; an unreachable SSM answers 503). Throws naming the dependency.
 */
export async function smokeTest(
  baseUrl: string,
  options: { attempts?: number; delayMs?: number; fetch?: typeof fetch; log?: (line: string) => void } = {},
): Promise<void> {
  const { attempts = 12, delayMs = 5_000, log = () => {} } = options;
  const get = options.fetch ?? fetch;
  const checks: SmokeCheck[] = [
    {
      dependency: 'the database',
      path: '/api/health/',
      passes: (status, body) => status === 200 && /"database"\s*:\s*"ok"/.test(body),
    },
    {
      dependency: 'the JWT secret (SSM)',
      path: '/api/me/',
      headers: { Authorization: `Bearer ${await wrongKeyToken()}` },
      passes: (status, body) => status === 401 && /token_not_valid/.test(body),
    },
  ];
  for (const check of checks) {
    let last = '';
    for (let i = 1; ; i++) {
      try {
        const res = await get(`${baseUrl}${check.path}`, { headers: check.headers, signal: AbortSignal.timeout(15_000) });
        const body = await res.text();
        if (check.passes(res.status, body)) break;
        last = `HTTP ${res.status} ${body.slice(0, 200)}`;
      } catch (err) {
        last = err instanceof Error ? err.message : String(err);
      }
      log(`[deploy] smoke test of ${check.dependency}, ${i}/${attempts}: ${last}`);
      if (i >= attempts) throw new DeployError(`smoke test: ${check.dependency} failed at GET ${baseUrl}${check.path} (last: ${last})`);
      await new Promise((r) => setTimeout(r, delayMs));
    }
    log(`[deploy] smoke test: ${check.dependency} ok`);
  }
}

/**
 * Runs the smoke test; on failure puts the previous deployment back (`serverless rollback`), so
 * the broken code does not stay live. The migrations stay: they are expand-only, so the previous
 * code runs on the new schema. A first deploy has nothing to go back to and says so.
 */
export async function smokeTestOrRollBack(options: {
  smoke: () => Promise<void>;
  previous: string | undefined;
  rollback: (timestamp: string) => Promise<void>;
  log: (line: string) => void;
}): Promise<void> {
  try {
    await options.smoke();
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    if (!options.previous) {
      throw new DeployError(`${reason}; first deploy of this stage, so there is no earlier deployment to roll back to: the stack stays as deployed (docs/deploy.md, "Rollback")`);
    }
    options.log(`[deploy] ${reason}`);
    options.log(`[deploy] rolling back to deployment ${options.previous} ...`);
    try {
      await options.rollback(options.previous);
    } catch (rollbackErr) {
      throw new DeployError(`${reason}; the rollback to deployment ${options.previous} failed too: ${(rollbackErr as Error).message}`);
    }
    throw new DeployError(`${reason}; rolled back to deployment ${options.previous} (the migrations stay applied)`);
  }
}
