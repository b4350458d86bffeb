import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { FALLBACKS, ROUTES } from '../../lib/routes/index.js';
import { connectionLimit, proxyPool } from './connection-budget.js';
import OFFLINE_STAGES from './offline-stages.json' with { type: 'json' };

// The pieces of `npm run deploy`, kept pure (or with injectable effects) so they are tested
// without AWS: argument parsing, step runner, stage checks (connection budget, RDS Proxy pool,
// Lambda concurrency quota), placeholder check, migration URL, rollback target, smoke test and
// rollback.

export { connectionLimit, OFFLINE_STAGES, proxyPool };

export interface DeployArgs {
  stage: string;
  region: string;
  /** Every local check, the packaging and the package checks; no AWS call, no database. */
  dryRun: boolean;
  /** The whole vitest suite (PostgreSQL, PgBouncer, Django) instead of the offline checks. */
  fullTests: boolean;
  /** Under CI, accept a region's RDS CA bundle that has no pin yet (trust on first use). */
  trustNewCa: boolean;
}

export class DeployError extends Error {
  override readonly name = 'DeployError';
}

const USAGE = 'usage: npm run deploy -- --stage <stage> [--region <region>] [--dry-run] [--full-tests] [--trust-new-ca]';

export function parseDeployArgs(argv: string[]): DeployArgs {
  const args: Partial<DeployArgs> = {};
  const flags = { dryRun: false, fullTests: false, trustNewCa: false };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i];
    if (flag === '--stage' || flag === '-s') args.stage = value();
    else if (flag === '--region' || flag === '-r') args.region = value();
    else if (flag === '--dry-run' && inline === undefined) flags.dryRun = true;
    else if (flag === '--full-tests' && inline === undefined) flags.fullTests = true;
    else if (flag === '--trust-new-ca' && inline === undefined) flags.trustNewCa = true;
    else throw new DeployError(`unknown argument ${argv[i]} (${USAGE})`);
  }
  if (!args.stage) throw new DeployError(`--stage is required (${USAGE})`);
  if (!/^[a-zA-Z0-9-]+$/.test(args.stage)) throw new DeployError(`invalid stage name "${args.stage}"`);
  // One list with serverless.yml's own refusal (scripts/lib/offline-stages.json): these stages'
  // params turn TLS off, use password auth and put the shell's JWT_SECRET in the environment.
  if ((OFFLINE_STAGES as string[]).includes(args.stage)) {
    throw new DeployError(`stage "${args.stage}" is for serverless-offline only (offline stages: ${OFFLINE_STAGES.join(', ')})`);
  }
  return { stage: args.stage, region: args.region ?? 'eu-west-1', ...flags };
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
export function run(
  command: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; capture?: boolean; /** Drop the command's stderr. */ quiet?: boolean } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env: options.env ?? process.env,
      stdio: ['ignore', options.capture ? 'pipe' : 'inherit', options.quiet ? 'ignore' : 'inherit'],
    });
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
  /** serverless.yml's planning value; the deploy replaces it with the server's max_connections. */
  dbMaxConnections: number;
  dbAdminHeadroom: number;
  useRdsProxy: string;
  reservedConcurrency: Record<string, number>;
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
 * a stage with reservations that leaves a connecting function without one, and, in RDS Proxy
 * mode only, a role too small for the proxy's smallest pool. `params.dbMaxConnections` is the
 * server's max_connections once the deploy has read it (databaseBudget), the planning value before.
 */
export function checkStageParams(stage: string, params: StageParams, functions: string[]): string[] {
  const problems: string[] = [];
  const limit = connectionLimit(params);
  if (!(limit >= 1)) problems.push(`params.${stage}: max_connections (${params.dbMaxConnections}) must exceed dbAdminHeadroom (${params.dbAdminHeadroom})`);
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
  if (params.useRdsProxy === 'true') {
    const pool = proxyPool(Number(params.dbMaxConnections), limit);
    if (Math.ceil((Number(params.dbMaxConnections) * pool.maxConnectionsPercent) / 100) > limit) {
      problems.push(`params.${stage}: a role limit of ${limit} is below 1% of ${params.dbMaxConnections} connections, the smallest pool RDS Proxy takes`);
    }
  }
  return problems;
}

export interface DatabaseBudget {
  /** The server's max_connections: passed to serverless as `--param=dbMaxConnections=<n>`. */
  maxConnections: number;
  /** The application role's CONNECTION LIMIT. */
  connectionLimit: number;
  /** RDS Proxy's pool (serverless.yml derives the same from the param); only in proxy mode. */
  proxyPool?: { maxConnectionsPercent: number; maxIdleConnectionsPercent: number };
  /** One line for the deploy's output. */
  summary: string;
}

/**
 * Everything that depends on the server's max_connections, derived from it: the role's limit,
 * the proxy's pool (proxy mode only), and the stage checks run again on the real number, so
 * the reservations must fit the limit the role will actually get. Throws with every problem.
 */
export function databaseBudget(stage: string, params: StageParams, functions: string[], maxConnections: number): DatabaseBudget {
  if (!Number.isInteger(maxConnections) || maxConnections < 1) {
    throw new DeployError(`the database answered SHOW max_connections with ${maxConnections}`);
  }
  const onServer = { ...params, dbMaxConnections: maxConnections };
  const problems = checkStageParams(stage, onServer, functions);
  if (problems.length) throw new DeployError(`with the server's max_connections of ${maxConnections}: ${problems.join('; ')}`);
  const limit = connectionLimit(onServer);
  const proxy = params.useRdsProxy === 'true';
  const pool = proxy ? proxyPool(maxConnections, limit) : undefined;
  const planned = Number(params.dbMaxConnections) === maxConnections ? '' : ` (serverless.yml plans ${params.dbMaxConnections})`;
  return {
    maxConnections,
    connectionLimit: limit,
    ...(pool ? { proxyPool: pool } : {}),
    summary:
      `max_connections ${maxConnections}${planned}: role CONNECTION LIMIT ${limit} (${maxConnections} - headroom ${params.dbAdminHeadroom}), ` +
      `connecting functions reserve ${sumReservations(params.reservedConcurrency ?? {}).database}; ` +
      (pool
        ? `RDS Proxy pool MaxConnectionsPercent ${pool.maxConnectionsPercent}, MaxIdleConnectionsPercent ${pool.maxIdleConnectionsPercent}`
        : 'direct connections (no RDS Proxy)'),
  };
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

/**
 * The stage's JWT secret exists as a SecureString before anything changes: without it every
 * deployed function answers 503 and the smoke test fails after the deploy. `getParameter` reads
 * it without decryption (ssm:GetParameter only: the deployer needs no kms:Decrypt) and returns its
 * type, or undefined when SSM says ParameterNotFound.
 */
export async function checkJwtSecret(getParameter: (name: string) => Promise<string | undefined>, stage: string, name: string): Promise<void> {
  if (!name) throw new DeployError(`params.${stage}.jwtSecretParameter is empty: deployed stages read the JWT secret from SSM`);
  const type = await getParameter(name);
  if (type === undefined) {
    throw new DeployError(
      `the JWT secret ${name} does not exist in SSM: create it first (aws ssm put-parameter --name ${name} --type SecureString --value …; docs/deploy.md, "The JWT secret")`,
    );
  }
  if (type !== 'SecureString') throw new DeployError(`the JWT secret ${name} is a ${type}, not a SecureString: recreate it encrypted`);
}

/** Deployment timestamps from `serverless deploy list`, oldest first. */
export function deploymentTimestamps(listOutput: string): string[] {
  return [...listOutput.matchAll(/^Timestamp: (\d+)\s*$/gm)].map((m) => m[1]!);
}

/**
 * The deployment a failed smoke test rolls back to, read before anything changes. Only "the stack
 * does not exist" (CloudFormation's answer when the deployment bucket is looked up) makes this a
 * first deploy with nothing to roll back to; any other failure (credentials, permissions, the
 * network, a stack left broken by a failed first deploy) stops the deploy, because going on would
 * leave a failed smoke test without its rollback. A stack with no stored deployment stops it too.
 */
export async function findRollbackTarget(
  list: () => Promise<string>,
  stackName: string,
): Promise<{ firstDeploy: true } | { firstDeploy: false; timestamp: string }> {
  let listed: string;
  try {
    listed = await list();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    const escaped = stackName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    if (new RegExp(`Stack (with id )?'?${escaped}'? does not exist`).test(message)) return { firstDeploy: true };
    throw new DeployError(
      `cannot tell which deployment a failed smoke test would roll back to, so nothing was changed: ${message}`,
    );
  }
  const timestamp = deploymentTimestamps(listed).at(-1);
  if (!timestamp) {
    throw new DeployError(
      `stack ${stackName} exists but \`serverless deploy list\` shows no stored deployment to roll back to, so nothing was changed: ` +
        `if it is what a failed first deploy left, remove it (npx serverless remove) and deploy again (docs/deploy.md, "Rollback")`,
    );
  }
  return { firstDeploy: false, timestamp };
}

/**
 * What to do with a region's RDS CA bundle that has no pin in certs/rds-ca-pins.json. Under CI a
 * new CA is never trusted on first use (the pin written there is thrown away with the workspace,
 * so every CI deploy would trust whatever it fetched) unless the deployer says --trust-new-ca;
 * elsewhere the deploy goes on and writes the pin once it has succeeded, for the deployer to
 * review and commit. A pinned bundle needs nothing.
 */
export function newCaPinPolicy(options: { pin: 'matched' | 'new'; region: string; ci: boolean; trustNewCa: boolean }): 'none' | 'record' {
  if (options.pin === 'matched') return 'none';
  if (options.ci && !options.trustNewCa) {
    throw new DeployError(
      `no pin for ${options.region} in certs/rds-ca-pins.json, and under CI a CA bundle is not trusted on first use: ` +
        `deploy once from a workstation and commit the pin it writes, or pass --trust-new-ca and commit the pin the deploy prints (docs/deploy.md, "RDS CA pins")`,
    );
  }
  return 'record';
}

export { isTruthyEnv } from './env-flag.js';

/**
 * What the deploy's output says about the code it ships: the commit, and loudly whether the tree
 * has changes no commit (so no CI run) holds. `git` runs a git command and returns its output.
 */
export async function describeSource(git: (args: string[]) => Promise<string>): Promise<{ commit: string; dirty: string[]; lines: string[] }> {
  let commit: string;
  try {
    commit = (await git(['rev-parse', 'HEAD'])).trim();
  } catch {
    return {
      commit: 'unknown',
      dirty: [],
      lines: ['[deploy] WARNING: not a git checkout: no commit names this code, and no CI run of the full suite (npm test) has seen it'],
    };
  }
  const dirty = (await git(['status', '--porcelain', '--untracked-files=normal']))
    .split('\n')
    .filter((line) => line.trim());
  const lines = [`[deploy] commit ${commit}: the full suite (npm test: PostgreSQL, PgBouncer, Django) is CI's run of this commit; this deploy runs the checks that need no service`];
  if (dirty.length) {
    lines.push(
      `[deploy] WARNING: THE WORKING TREE HAS ${dirty.length} UNCOMMITTED CHANGE(S): this deploys code that no commit holds and no CI run has tested:`,
      ...dirty.slice(0, 20).map((l) => `[deploy]   ${l}`),
      ...(dirty.length > 20 ? [`[deploy]   ... and ${dirty.length - 20} more`] : []),
    );
  }
  return { commit, dirty, lines };
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
