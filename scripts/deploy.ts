// `npm run deploy -- --stage <stage> [--region <region>]`: type-check, test, package, refuse
// leftover placeholders, migrate the stage's database, deploy, smoke-test /api/health/.
// Stops at the first failure and says which step failed. See docs/deploy.md.
//
// Environment:
//   MIGRATE_DATABASE_URL   owner/admin URL of the stage's database (required), e.g.
//                          postgres://cashbook_owner@<host>:5432/cashbook?sslmode=verify-full&sslrootcert=certs/rds-global-bundle.pem
//   MIGRATE_DB_AUTH        `iam` to log in with an IAM token instead of a password in the URL
//   DB_CONNECTION_LIMIT    the application role's CONNECTION LIMIT (default: the stage's
//                          dbMaxConnections - dbAdminHeadroom params, else 10)
//   AWS credentials/profile as for any `serverless deploy`.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ROLE_SETTINGS, migrate, setupAppRole } from './lib/database-setup.js';
import {
  DeployError,
  findPlaceholders,
  httpApiUrl,
  migrationUrl,
  parseDeployArgs,
  run,
  runSteps,
  smokeTest,
} from './lib/deploy.js';

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

let params: Record<string, any> = {};

const ok = await runSteps(
  [
    { name: 'type-check', run: () => run(bin('tsc'), ['-p', root]).then(() => undefined) },
    { name: 'test', run: () => run(bin('vitest'), ['run', '--root', root]).then(() => undefined) },
    {
      name: `package (${stage}, ${region})`,
      run: async () => {
        await run(bin('serverless'), sls('package', '--package', packageDir));
        const printed = await run(bin('serverless'), sls('print', '--format', 'json'), { capture: true });
        params = { ...(JSON.parse(printed).params?.default ?? {}), ...(JSON.parse(printed).params?.[stage] ?? {}) };
      },
    },
    {
      name: 'check stage params',
      run: async () => {
        const template = JSON.parse(readFileSync(`${packageDir}/cloudformation-template-update-stack.json`, 'utf8'));
        const left = findPlaceholders(template);
        if (left.length) {
          throw new DeployError(`fill in the REPLACE-ME params for stage ${stage} in serverless.yml:\n  ${left.join('\n  ')}`);
        }
      },
    },
    {
      name: 'migrate the database',
      run: async () => {
        const url = await migrationUrl(process.env, region, async (target) => {
          const { Signer } = await import('@aws-sdk/rds-signer');
          return new Signer(target).getAuthToken();
        });
        const applied = await migrate(url, (line) => say(`[migrate] ${line}`));
        say(`[migrate] ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`);
        const budget = Number(params.dbMaxConnections) - Number(params.dbAdminHeadroom);
        const connectionLimit = Number(process.env.DB_CONNECTION_LIMIT ?? (Number.isFinite(budget) ? budget : 10));
        await setupAppRole(url, {
          name: String(params.dbUser ?? 'cashbook_app'),
          iam: params.dbAuth === 'iam',
          password: params.dbAuth === 'iam' ? undefined : process.env.APP_DB_PASSWORD,
          connectionLimit,
          settings: DEFAULT_ROLE_SETTINGS,
        });
        say(`[migrate] role ${params.dbUser} configured (CONNECTION LIMIT ${connectionLimit})`);
      },
    },
    { name: 'serverless deploy', run: () => run(bin('serverless'), sls('deploy', '--package', packageDir)).then(() => undefined) },
    {
      name: 'smoke test /api/health/',
      run: async () => {
        const url = httpApiUrl(await run(bin('serverless'), sls('info', '--verbose'), { capture: true }));
        say(`[deploy] API at ${url}`);
        await smokeTest(url, { log: say });
      },
    },
  ],
  say,
);

if (!ok) process.exit(1);
say(`[deploy] stage ${stage} deployed and healthy`);
