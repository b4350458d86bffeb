// `npm run deploy -- --stage <stage> [--region <region>] [--dry-run] [--full-tests] [--trust-new-ca]`:
// type-check, run the checks that need no service (unit tests, the template test, the migration
// guard), check the stage's params, read the database's max_connections and derive the role's
// limit and the proxy's pool from it, check the account's Lambda concurrency quota and that the
// stage's JWT secret exists in SSM, find the deployment to roll back to, fetch and check the
// region's RDS CA bundle, package, check the package, migrate the stage's database, deploy, and
// smoke-test every dependency — rolling the code back to the previous deployment when that fails. Stops at the first failure and says which
// step failed; nothing in AWS or the database changes before the migration step.
// `--dry-run`: every local check, the packaging and the package checks, with no AWS call and no
// database (no credentials needed). See docs/deploy.md.
//
// Environment:
//   MIGRATE_DATABASE_URL   owner/admin URL of the stage's database (required), e.g.
//                          postgres://cashbook_owner@<host>:5432/cashbook?sslmode=verify-full&sslrootcert=certs/rds-ca.pem
//   MIGRATE_DB_AUTH        `iam` to log in with an IAM token instead of a password in the URL
//   RDS_CA_BUNDLE          a PEM file to ship instead of fetching the region's RDS CA bundle
//   CI                     `true` under CI: a region without an RDS CA pin is refused (--trust-new-ca)
//   AWS credentials/profile as for any `serverless deploy`.
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrate, roleSettingsFor, serverMaxConnections, setupAppRole } from './lib/database-setup.js';
import {
  checkConcurrencyQuota,
  checkJwtSecret,
  checkStageParams,
  databaseBudget,
  DeployError,
  describeSource,
  findPlaceholders,
  findRollbackTarget,
  httpApiUrl,
  isTruthyEnv,
  migrationUrl,
  newCaPinPolicy,
  parseDeployArgs,
  run,
  runSteps,
  smokeTest,
  smokeTestOrRollBack,
  type DatabaseBudget,
  type LambdaQuota,
  type StageParams,
  type Step,
} from './lib/deploy.js';
import { checkMigrations, describeProblems } from './lib/migration-guard.js';
import { DRY_RUN_STAND_IN_CA, pinsWith, prepareRdsCa, RDS_CA_FILE, RDS_CA_PINS_FILE, type PreparedBundle } from './lib/rds-ca.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = (name: string) => `${root}node_modules/.bin/${name}`;
const say = (line: string) => console.log(line);

let args;
try {
  args = parseDeployArgs(process.argv.slice(2));
} catch (err) {
  console.error(`[deploy] ${(err as Error).message}`);
  process.exit(2);
}
const { stage, region, dryRun, fullTests, trustNewCa } = args;
const ci = isTruthyEnv(process.env.CI);
// A dry run packages where no `serverless deploy --package` would pick it up by habit.
const packageDir = dryRun ? mkdtempSync(join(tmpdir(), 'cashbook-dry-run-')) : `${root}.serverless`;

let service = 'cashbook-api';
let params = {} as StageParams & Record<string, any>;
let functions: string[] = [];
let budget: DatabaseBudget | undefined;
let previousDeployment: string | undefined;
let caBundle: PreparedBundle | undefined;
let recordPin = false;
/** `--param`s for every serverless command after the database was read: its max_connections. */
let serverParams: string[] = [];
const sls = (...rest: string[]) => [...rest, '--stage', stage, '--region', region, ...serverParams];

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

const ownerUrl = () =>
  migrationUrl(process.env, region, async (target) => {
    const { Signer } = await import('@aws-sdk/rds-signer');
    return new Signer(target).getAuthToken();
  });

const pinsFile = `${root}${RDS_CA_PINS_FILE}`;
const readPins = () => (existsSync(pinsFile) ? (JSON.parse(readFileSync(pinsFile, 'utf8')) as Record<string, string>) : {});

const source = await describeSource((gitArgs) => run('git', ['-C', root, ...gitArgs], { capture: true, quiet: true }));
for (const line of source.lines) say(line);
if (dryRun) say(`[deploy] DRY RUN of stage ${stage} (${region}): local checks and packaging only; no AWS call, no database, nothing deployed`);

const checks: Step[] = [
  { name: 'type-check', run: () => run(bin('tsc'), ['-p', root]).then(() => undefined) },
  fullTests
    ? { name: 'the full test suite (--full-tests: PostgreSQL, PgBouncer, Django)', run: () => run(bin('vitest'), ['run', '--root', root]).then(() => undefined) }
    : {
        name: 'the checks that need no service (unit tests, template test; vitest.offline.config.ts)',
        run: () => run(bin('vitest'), ['run', '--root', root, '--config', `${root}vitest.offline.config.ts`]).then(() => undefined),
      },
  {
    name: 'migrations only expand (PostgreSQL parser)',
    run: async () => {
      const problems = await checkMigrations(`${root}lib/migrations`);
      if (problems.length) throw new DeployError(`a failed smoke test could not roll back onto this schema:\n${describeProblems(problems)}`);
    },
  },
  {
    name: `check params.${stage} (connection budget)`,
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
      // Against serverless.yml's planned max_connections here; against the server's once it is read.
      const problems = checkStageParams(stage, params, functions);
      if (problems.length) throw new DeployError(problems.join('; '));
      if (dryRun) say(`[deploy] dry run: planned max_connections ${params.dbMaxConnections} from serverless.yml; a deploy reads the server's`);
    },
  },
];

const awsReads: Step[] = [
  {
    name: "read the database's max_connections (the role's limit, the proxy's pool)",
    run: async () => {
      budget = databaseBudget(stage, params, functions, await serverMaxConnections(await ownerUrl()));
      serverParams = [`--param=dbMaxConnections=${budget.maxConnections}`];
      say(`[deploy] ${budget.summary}`);
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
    name: 'the JWT secret exists (SSM GetParameter, not decrypted)',
    run: () =>
      checkJwtSecret(
        async (name) => {
          const { SSMClient, GetParameterCommand } = await import('@aws-sdk/client-ssm');
          try {
            const { Parameter } = await new SSMClient({ region }).send(new GetParameterCommand({ Name: name, WithDecryption: false }));
            return Parameter?.Type ?? 'unknown';
          } catch (err) {
            if ((err as Error).name === 'ParameterNotFound') return undefined;
            throw err;
          }
        },
        stage,
        String(params.jwtSecretParameter ?? ''),
      ),
  },
  {
    name: 'find the deployment to roll back to',
    run: async () => {
      const target = await findRollbackTarget(() => run(bin('serverless'), sls('deploy', 'list'), { capture: true }), `${service}-${stage}`);
      previousDeployment = target.firstDeploy ? undefined : target.timestamp;
      say(`[deploy] ${previousDeployment ? `previous deployment: ${previousDeployment}` : `first deploy of this stage (stack ${service}-${stage} does not exist)`}`);
    },
  },
];

function warnUnpinnedInCi(): void {
  if (ci && !trustNewCa) {
    say(`[deploy] WARNING: ${RDS_CA_PINS_FILE} has no pin for ${region}: under CI a deploy of this region is refused unless --trust-new-ca`);
  }
}

const caStep: Step = {
  name: `RDS CA bundle for ${region}`,
  run: async () => {
    mkdirSync(`${root}certs`, { recursive: true });
    const supplied = process.env.RDS_CA_BUNDLE || undefined;
    if (dryRun && !supplied) {
      writeFileSync(`${root}${RDS_CA_FILE}`, DRY_RUN_STAND_IN_CA);
      say(`[deploy] dry run: fetched nothing; ${RDS_CA_FILE} is a labelled STAND-IN (not a certificate) so the zip check runs.`);
      say(`[deploy]   Set RDS_CA_BUNDLE=<the region's bundle> to check the real one against ${RDS_CA_PINS_FILE} too.`);
      if (!readPins()[region]) warnUnpinnedInCi();
      return;
    }
    const pins = readPins();
    caBundle = await prepareRdsCa({
      region,
      suppliedFile: supplied,
      readFile: (path) => readFile(path, 'utf8'),
      fetch: (url) => fetch(url, { signal: AbortSignal.timeout(30_000) }),
      pins,
    });
    writeFileSync(`${root}${RDS_CA_FILE}`, caBundle.pem);
    for (const c of caBundle.certificates) say(`[deploy]   ${c.subject} (until ${c.validTo})`);
    // A dry run deploys nothing: under CI it warns about a missing pin rather than failing.
    recordPin = newCaPinPolicy({ pin: caBundle.pin, region, ci: ci && !dryRun, trustNewCa }) === 'record';
    if (recordPin && dryRun) warnUnpinnedInCi();
    if (recordPin) {
      say(
        dryRun
          ? `[deploy] ${region} has no pin yet (SHA-256 ${caBundle.sha256}); a deploy writes it to ${RDS_CA_PINS_FILE} once it succeeds`
          : `[deploy] ${region} has no pin yet: trusting SHA-256 ${caBundle.sha256} on first use; pinned in ${RDS_CA_PINS_FILE} once the deploy succeeds`,
      );
    } else say(`[deploy] SHA-256 ${caBundle.sha256} matches the pin for ${region}`);
  },
};

const packageSteps: Step[] = [
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
];

const changes: Step[] = [
  {
    name: 'migrate the database',
    run: async () => {
      const url = await ownerUrl();
      const applied = await migrate(url, (line) => say(`[migrate] ${line}`));
      say(`[migrate] ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`);
      const mode = params.useRdsProxy === 'true' ? 'proxy' : 'direct';
      await setupAppRole(url, {
        name: String(params.dbUser ?? 'cashbook_app'),
        iam: params.dbAuth === 'iam',
        password: params.dbAuth === 'iam' ? undefined : process.env.APP_DB_PASSWORD,
        connectionLimit: budget!.connectionLimit,
        settings: roleSettingsFor(mode),
      });
      say(`[migrate] role ${params.dbUser} configured (CONNECTION LIMIT ${budget!.connectionLimit}, ${mode})`);
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
];

// A dry run's bundle (stand-in or supplied) must not stay where a later `serverless package` or
// `npm run package` would ship it: the previous file comes back afterwards.
const caFile = `${root}${RDS_CA_FILE}`;
const previousCa = dryRun && existsSync(caFile) ? readFileSync(caFile) : undefined;
let ok: boolean;
try {
  ok = await runSteps(dryRun ? [...checks, caStep, ...packageSteps] : [...checks, ...awsReads, caStep, ...packageSteps, ...changes], say);
} finally {
  if (dryRun) {
    if (previousCa) writeFileSync(caFile, previousCa);
    else rmSync(caFile, { force: true });
    rmSync(packageDir, { recursive: true, force: true });
  }
}

if (!ok) process.exit(1);
if (dryRun) {
  say(`[deploy] dry run of stage ${stage} passed: checks, packaging and the package checks. Not run: the database, AWS, the deploy and its smoke test.`);
  process.exit(0);
}
if (recordPin && caBundle) {
  writeFileSync(pinsFile, pinsWith(readPins(), region, caBundle.sha256));
  say(`[deploy] pinned the RDS CA bundle of ${region} (SHA-256 ${caBundle.sha256}) in ${RDS_CA_PINS_FILE}: review the certificates listed above and COMMIT IT`);
  if (ci) say(`[deploy] under CI this workspace is thrown away: commit "${region}": "${caBundle.sha256}" to ${RDS_CA_PINS_FILE} yourself`);
}
say(`[deploy] stage ${stage} deployed from commit ${source.commit}${source.dirty.length ? ' WITH UNCOMMITTED CHANGES' : ''}; database and JWT secret answer`);
