// `npm run deploy -- --stage <stage> [--region <region>]`: type-check, test, check the stage's
// params, check the account's Lambda concurrency quota, fetch and check the region's RDS CA
// bundle, package, refuse leftover placeholders, migrate the stage's database, deploy, and
// smoke-test every dependency — rolling the code back to the previous deployment when that fails.
// Stops at the first failure and says which step failed. See docs/deploy.md.
//
// Environment:
//   MIGRATE_DATABASE_URL   owner/admin URL of the stage's database (required), e.g.
//                          postgres://cashbook_owner@<host>:5432/cashbook?sslmode=verify-full&sslrootcert=certs/rds-ca.pem
//   MIGRATE_DB_AUTH        `iam` to log in with an IAM token instead of a password in the URL
//   RDS_CA_BUNDLE          a PEM file to ship instead of fetching the region's RDS CA bundle
//   AWS credentials/profile as for any `serverless deploy`.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { migrate, roleSettingsFor, serverMaxConnections, setupAppRole } from './lib/database-setup.js';
import {
  checkConcurrencyQuota,
  checkStageParams,
  connectionLimit,
  DeployError,
  deploymentTimestamps,
  findPlaceholders,
  httpApiUrl,
  migrationUrl,
  parseDeployArgs,
  run,
  runSteps,
  smokeTest,
  smokeTestOrRollBack,
  type LambdaQuota,
  type StageParams,
} from './lib/deploy.js';
import { prepareRdsCa, RDS_CA_FILE, RDS_CA_PINS_FILE } from './lib/rds-ca.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const packageDir = `${root}.serverless`;
const say = (line: string) => console.log(line);

let args;
try {
  args = parseDeployArgs(process.argv.slice(2));
} catch (err) {
  console.error(`[deploy] ${(err as Error).message}`);
  process.exit(2);
}
const { stage, region } = args;
const sls = (...rest: string[]) => [...rest, '--stage', stage, '--region', region];

let service = 'cashbook-api';
let params = {} as StageParams & Record<string, any>;
let functions: string[] = [];
let previousDeployment: string | undefined;

/** The Lambda API calls of the quota check, through the SDK serverless itself uses. */
async function lambdaQuota(): Promise<LambdaQuota> {
  const { LambdaClient, GetAccountSettingsCommand, GetFunctionConcurrencyCommand } = await import('@aws-sdk/client-lambda');
  const client = new LambdaClient({ region });
  return {
    async accountSettings() {
      const { AccountLimit } = await client.send(new GetAccountSettingsCommand({}));
      return {
        concurrentExecutions: AccountLimit?.ConcurrentExecutions ?? 0,
        unreservedConcurrentExecutions: AccountLimit?.UnreservedConcurrentExecutions ?? 0,
      };
    },
    async reservedConcurrency(functionName) {
      try {
        const out = await client.send(new GetFunctionConcurrencyCommand({ FunctionName: functionName }));
        return out.ReservedConcurrentExecutions;
      } catch (err) {
        if ((err as Error).name === 'ResourceNotFoundException') return undefined;
        throw err;
      }
    },
  };
}

const ok = await runSteps(
  [
    { name: 'type-check', run: () => run(bin('tsc'), ['-p', root]).then(() => undefined) },
    { name: 'test', run: () => run(bin('vitest'), ['run', '--root', root]).then(() => undefined) },
    {
      name: `check params.${stage} (connection budget, RDS Proxy pool)`,
      run: async () => {
        // Fails here for a stage without its own complete params (serverless.yml has no defaults).
        const printed = JSON.parse(
          await run(bin('serverless'), sls('print', '--format', 'json'), { capture: true }).catch((err: Error) => {
            const missing = /Value not found at "param" source/.test(err.message);
            throw missing
              ? new DeployError(`serverless.yml has no complete params.${stage}; copy prod's block and fill it in:\n${err.message}`)
              : err;
          }),
        );
        service = typeof printed.service === 'string' ? printed.service : (printed.service?.name ?? service);
        params = printed.params?.[stage] ?? {};
        functions = Object.keys(printed.functions ?? {});
        const problems = checkStageParams(stage, params, functions);
        if (problems.length) throw new DeployError(problems.join('; '));
      },
    },
    {
      name: 'Lambda concurrency quota (GetAccountSettings)',
      run: async () => {
        const { limit, wanted, unreservedAfter } = await checkConcurrencyQuota(await lambdaQuota(), {
          stage,
          functionNames: functions.map((f) => `${service}-${stage}-${f}`),
          reserved: params.reservedConcurrency ?? {},
        });
        say(`[deploy] account quota ${limit}; stage ${stage} reserves ${wanted}, leaving ${unreservedAfter} unreserved`);
      },
    },
    {
      name: `RDS CA bundle for ${region}`,
      run: async () => {
        const pinsFile = `${root}${RDS_CA_PINS_FILE}`;
        const pins = existsSync(pinsFile) ? (JSON.parse(readFileSync(pinsFile, 'utf8')) as Record<string, string>) : {};
        const bundle = await prepareRdsCa({
          region,
          suppliedFile: process.env.RDS_CA_BUNDLE || undefined,
          readFile: (path) => readFile(path, 'utf8'),
          fetch: (url) => fetch(url, { signal: AbortSignal.timeout(30_000) }),
          pins,
        });
        mkdirSync(`${root}certs`, { recursive: true });
        writeFileSync(`${root}${RDS_CA_FILE}`, bundle.pem);
        for (const c of bundle.certificates) say(`[deploy]   ${c.subject} (until ${c.validTo})`);
        if (bundle.pin === 'new') {
          writeFileSync(pinsFile, `${JSON.stringify({ ...pins, [region]: bundle.sha256 }, null, 2)}\n`);
          say(`[deploy] pinned SHA-256 ${bundle.sha256} for ${region} in ${RDS_CA_PINS_FILE}: review and commit it`);
        }
      },
    },
    {
      name: `package (${stage}, ${region})`,
      run: () => run(bin('serverless'), sls('package', '--package', packageDir)).then(() => undefined),
    },
    {
      name: 'check the package (placeholders, RDS CA in every zip)',
      run: async () => {
        const template = JSON.parse(readFileSync(`${packageDir}/cloudformation-template-update-stack.json`, 'utf8'));
        const left = findPlaceholders(template);
        if (left.length) {
          throw new DeployError(`fill in the placeholder params for stage ${stage} in serverless.yml:\n  ${left.join('\n  ')}`);
        }
        // A zip's central directory names its files in plain text.
        const without = readdirSync(packageDir)
          .filter((f) => f.endsWith('.zip'))
          .filter((f) => !readFileSync(`${packageDir}/${f}`).includes(RDS_CA_FILE));
        if (without.length) throw new DeployError(`${RDS_CA_FILE} is missing from ${without.join(', ')}`);
      },
    },
    {
      name: 'migrate the database',
      run: async () => {
        const url = await migrationUrl(process.env, region, async (target) => {
          const { Signer } = await import('@aws-sdk/rds-signer');
          return new Signer(target).getAuthToken();
        });
        // The connection budget and the proxy's pool were computed from dbMaxConnections: a
        // smaller server refuses the reservations, a larger one lets the proxy's percentage
        // exceed the role's limit.
        const actual = await serverMaxConnections(url);
        if (actual !== Number(params.dbMaxConnections)) {
          throw new DeployError(
            `the database's max_connections is ${actual}, not params.${stage}.dbMaxConnections (${params.dbMaxConnections}): set the param to ${actual} and run again (the check step then names the proxy percentages to match)`,
          );
        }
        const applied = await migrate(url, (line) => say(`[migrate] ${line}`));
        say(`[migrate] ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`);
        const limit = connectionLimit(params);
        const mode = params.useRdsProxy === 'true' ? 'proxy' : 'direct';
        await setupAppRole(url, {
          name: String(params.dbUser ?? 'cashbook_app'),
          iam: params.dbAuth === 'iam',
          password: params.dbAuth === 'iam' ? undefined : process.env.APP_DB_PASSWORD,
          connectionLimit: limit,
          settings: roleSettingsFor(mode),
        });
        say(`[migrate] role ${params.dbUser} configured (CONNECTION LIMIT ${limit}, ${mode})`);
      },
    },
    {
      name: 'find the deployment to roll back to',
      run: async () => {
        // No stack or deployment bucket yet: a first deploy, nothing to roll back to.
        const listed = await run(bin('serverless'), sls('deploy', 'list'), { capture: true }).catch(() => '');
        previousDeployment = deploymentTimestamps(listed).at(-1);
        say(`[deploy] ${previousDeployment ? `previous deployment: ${previousDeployment}` : 'first deploy of this stage'}`);
      },
    },
    { name: 'serverless deploy', run: () => run(bin('serverless'), sls('deploy', '--package', packageDir)).then(() => undefined) },
    {
      name: 'smoke test (database, JWT secret)',
      run: async () => {
        const url = httpApiUrl(await run(bin('serverless'), sls('info', '--verbose'), { capture: true }));
        say(`[deploy] API at ${url}`);
        await smokeTestOrRollBack({
          smoke: () => smokeTest(url, { log: say }),
          previous: previousDeployment,
          rollback: (timestamp) => run(bin('serverless'), sls('rollback', '--timestamp', timestamp)).then(() => undefined),
          log: say,
        });
      },
    },
  ],
  say,
);

if (!ok) process.exit(1);
say(`[deploy] stage ${stage} deployed; database and JWT secret answer`);
