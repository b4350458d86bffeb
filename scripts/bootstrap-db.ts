// `npm run bootstrap-db [-- --owner cashbook_owner --app cashbook_app --app-auth iam|password]`:
// run once per database with the RDS master user, before the first deploy. Creates the owner role
// the deploy migrates as (MIGRATE_DATABASE_URL), the application role the functions log in as
// (IAM), and the database, owned by the owner; running it again changes nothing and says so.
// See docs/deploy.md, "Database roles (run once)".
//
// Environment:
//   MASTER_DATABASE_URL  the master user's URL, naming the service's database (created if missing):
//                        postgres://postgres:<password>@<endpoint>:5432/cashbook?sslmode=verify-full&sslrootcert=certs/rds-ca.pem
//   OWNER_DB_PASSWORD    the owner's password, needed when the owner role is created
import { bootstrapDatabase, BootstrapError, type BootstrapOptions } from './lib/database-roles.js';

const USAGE = 'usage: MASTER_DATABASE_URL=... OWNER_DB_PASSWORD=... npm run bootstrap-db -- [--owner <role>] [--app <role>] [--app-auth iam|password]';

function parseArgs(argv: string[]): Omit<BootstrapOptions, 'database' | 'ownerPassword'> {
  const args = { owner: 'cashbook_owner', app: 'cashbook_app', appAuth: 'iam' as BootstrapOptions['appAuth'] };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split('=', 2) as [string, string | undefined];
    const value = () => inline ?? argv[++i] ?? '';
    if (flag === '--owner') args.owner = value();
    else if (flag === '--app') args.app = value();
    else if (flag === '--app-auth') {
      const auth = value();
      if (auth !== 'iam' && auth !== 'password') throw new BootstrapError(`--app-auth must be iam or password (${USAGE})`);
      args.appAuth = auth;
    } else throw new BootstrapError(`unknown argument ${flag} (${USAGE})`);
  }
  for (const name of [args.owner, args.app]) if (!name) throw new BootstrapError(`empty role name (${USAGE})`);
  return args;
}

try {
  const url = process.env.MASTER_DATABASE_URL;
  if (!url) throw new BootstrapError(`set MASTER_DATABASE_URL to the master user's URL of the service's database (${USAGE})`);
  const database = decodeURIComponent(new URL(url).pathname.slice(1));
  if (!database) throw new BootstrapError('MASTER_DATABASE_URL names no database (…:5432/cashbook)');
  const args = parseArgs(process.argv.slice(2));
  const result = await bootstrapDatabase(url, { ...args, database, ownerPassword: process.env.OWNER_DB_PASSWORD || undefined });
  for (const line of result.changes) console.log(`[bootstrap-db] ${line}`);
  if (!result.changes.length) console.log(`[bootstrap-db] nothing to change: ${args.owner}, ${args.app} and database ${database} are already set up`);
  for (const line of result.warnings) console.warn(`[bootstrap-db] WARNING ${line}`);
  console.log(`[bootstrap-db] deploy with MIGRATE_DATABASE_URL naming ${args.owner} (its password, not IAM)`);
} catch (err) {
  console.error(`[bootstrap-db] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(err instanceof BootstrapError ? 2 : 1);
}
