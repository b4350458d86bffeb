// `npm run migrate`: applies lib/migrations to MIGRATE_DATABASE_URL (an owner/admin URL),
// falling back to DATABASE_URL. With APP_DB_ROLE set, also (re)applies the application role's
// grants and server-side limits (statement_timeout and friends) — see docs/configuration.md, "Time limits".
import { DEFAULT_ROLE_SETTINGS, migrate, setupAppRole } from './lib/database-setup.js';

const url = process.env.MIGRATE_DATABASE_URL ?? process.env.DATABASE_URL;
if (!url) {
  console.error('Set MIGRATE_DATABASE_URL (or DATABASE_URL) to the database to migrate.');
  process.exit(2);
}
const applied = await migrate(url, (line) => console.log(`[migrate] ${line}`));
console.log(`[migrate] ${applied.length ? `applied ${applied.join(', ')}` : 'nothing to apply'}`);

const role = process.env.APP_DB_ROLE;
if (role) {
  // APP_DB_AUTH=iam: no password, GRANT rds_iam (RDS only); otherwise APP_DB_PASSWORD.
  const iam = process.env.APP_DB_AUTH === 'iam';
  const password = process.env.APP_DB_PASSWORD;
  if (!iam && !password) {
    console.error('APP_DB_PASSWORD (or APP_DB_AUTH=iam) is required with APP_DB_ROLE.');
    process.exit(2);
  }
  await setupAppRole(url, {
    name: role,
    password,
    iam,
    connectionLimit: Number(process.env.DB_CONNECTION_LIMIT ?? 2),
    settings: DEFAULT_ROLE_SETTINGS,
  });
  console.log(`[migrate] role ${role} configured${iam ? ' for IAM authentication' : ''}`);
}
