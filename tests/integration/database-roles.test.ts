import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { bootstrapDatabase, type BootstrapOptions } from '../../scripts/lib/database-roles.js';
import { migrate, roleSettingsFor, setupAppRole } from '../../scripts/lib/database-setup.js';
import { componentsRequired } from '../support/components.js';
import { expectNoAppConnections } from '../support/db.js';

// `npm run bootstrap-db` as RDS's master user would run it, then a deploy's migration step as the
// owner it created, on PostgreSQL 15 (the system server, when there is one) and on the embedded
// PostgreSQL 18, whose role rules differ (16+: CREATEROLE covers only roles one has ADMIN OPTION
// on). Stand-ins: a `rds_iam` role, and a master that is no superuser (CREATEROLE, CREATEDB, as
// rds_superuser's members are; ADMIN OPTION on rds_iam, which RDS gives its master).

const root = fileURLToPath(new URL('../..', import.meta.url));
const SYSTEM_PG15 = 'postgres://postgres@127.0.0.1:5432/test';

async function query<R extends pg.QueryResultRow = Record<string, any>>(url: string, text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: url, application_name: 'cashbook-test-bootstrap' });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const withUser = (url: string, user: string, password: string, database?: string) => {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  if (database) u.pathname = `/${database}`;
  return u.toString();
};

/** The system PostgreSQL 15's URL, or why it cannot be used. */
async function systemPg15(): Promise<{ url: string } | { missing: string }> {
  try {
    const [row] = await query<{ v: string }>(SYSTEM_PG15, "SELECT current_setting('server_version_num') AS v");
    if (Math.floor(Number(row!.v) / 10000) === 15) return { url: SYSTEM_PG15 };
    return { missing: `PostgreSQL 15 at ${SYSTEM_PG15} (found server_version_num ${row!.v})` };
  } catch (err) {
    return {
      missing: `PostgreSQL 15 at ${SYSTEM_PG15} (${(err as Error).message}; Debian 12: apt-get install postgresql, trust auth for 127.0.0.1 in pg_hba.conf, createdb test)`,
    };
  }
}

const pg15 = await systemPg15();
/** The suite's own server: the embedded PostgreSQL 18, or TEST_DATABASE_URL's. */
const suiteMajor = Math.floor(Number((await query<{ v: string }>(inject('adminUrl'), "SELECT current_setting('server_version_num') AS v"))[0]!.v) / 10000);

describe(`npm run bootstrap-db on PostgreSQL ${suiteMajor} (the test suite's server)`, () => bootstrapSuite(() => inject('adminUrl')));

// As tests/support/components.ts does for PgBouncer and Django: skipped with a line in the run's
// summary on a machine without it, a failure under CI=true.
const PG15_SUITE = 'npm run bootstrap-db on PostgreSQL 15 (system server)';
if ('url' in pg15) describe(PG15_SUITE, () => bootstrapSuite(() => pg15.url));
else if (componentsRequired()) {
  describe(PG15_SUITE, () => {
    it('needs PostgreSQL 15', () => {
      throw new Error(`missing under CI=true (a failure, not a skip): ${pg15.missing}`);
    });
  });
} else describe(PG15_SUITE, { skip: true, meta: { missingComponents: [pg15.missing] } }, () => bootstrapSuite(() => ''));

function bootstrapSuite(superUrl: () => string): void {
  const suffix = randomBytes(4).toString('hex');
  const names = { master: `cb_master_${suffix}`, owner: `cb_owner_${suffix}`, app: `cb_app_${suffix}`, database: `cb_boot_${suffix}` };
  const passwords = { master: randomBytes(12).toString('hex'), owner: randomBytes(12).toString('hex') };
  let createdRdsIam = false;
  let masterUrl: string;
  let ownerUrl: string;
  const options = (): BootstrapOptions => ({
    database: names.database,
    owner: names.owner,
    ownerPassword: passwords.owner,
    app: names.app,
    appAuth: 'iam',
  });

  afterAll(async () => {
    const url = superUrl();
    for (const db of [names.database, `${names.database}_old`]) await query(url, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
    for (const role of [names.app, names.owner, names.master]) await query(url, `DROP ROLE IF EXISTS ${role}`);
    if (createdRdsIam) await query(url, 'DROP ROLE IF EXISTS rds_iam').catch(() => undefined);
  });

  it('sets up the owner, the application role and the database as a non-superuser master; a second run changes nothing', async () => {
    const url = superUrl();
    const version = Number((await query<{ v: string }>(url, "SELECT current_setting('server_version_num') AS v"))[0]!.v);
    if (!(await query(url, "SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'")).length) {
      await query(url, 'CREATE ROLE rds_iam NOLOGIN');
      createdRdsIam = true;
    }
    await query(url, `CREATE ROLE ${names.master} LOGIN CREATEROLE CREATEDB PASSWORD '${passwords.master}'`);
    if (version >= 160000) await query(url, `GRANT rds_iam TO ${names.master} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`);
    masterUrl = withUser(url, names.master, passwords.master, names.database);
    ownerUrl = withUser(url, names.owner, passwords.owner, names.database);

    const first = await bootstrapDatabase(masterUrl, options());
    expect(first.changes).toEqual([
      `created role ${names.owner} (LOGIN, CREATEROLE, password)`,
      `created role ${names.app} (LOGIN, no password)`,
      `role ${names.app}: granted rds_iam (IAM authentication)`,
      ...(version >= 160000 ? [`role ${names.owner}: ADMIN OPTION on ${names.app} (no INHERIT, no SET), to alter it on each deploy`] : []),
      `created database ${names.database}, owned by ${names.owner}`,
    ]);
    expect(first.warnings).toEqual([]);

    // The second run, as an operator types it: it says that nothing changed.
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', 'tsx', 'scripts/bootstrap-db.ts', '--owner', names.owner, '--app', names.app], {
      cwd: root,
      env: { PATH: process.env.PATH, MASTER_DATABASE_URL: masterUrl, OWNER_DB_PASSWORD: passwords.owner },
      timeout: 60_000,
    });
    expect(stdout).toContain(`[bootstrap-db] nothing to change: ${names.owner}, ${names.app} and database ${names.database} are already set up`);
    expect((await bootstrapDatabase(masterUrl, options())).changes).toEqual([]);
  });

  it('lets the owner run a deploy’s migration step: migrations, then the app role’s limit and settings, twice', async () => {
    for (const mode of ['direct', 'proxy', 'direct'] as const) {
      await migrate(ownerUrl);
      await setupAppRole(ownerUrl, { name: names.app, iam: true, connectionLimit: 3, settings: roleSettingsFor(mode) });
    }
    const [app] = await query(superUrl(), 'SELECT rolcanlogin, rolconnlimit, rolconfig FROM pg_roles WHERE rolname = $1', [names.app]);
    expect(app).toMatchObject({ rolcanlogin: true, rolconnlimit: 3 });
    expect(app!.rolconfig).toEqual(expect.arrayContaining(['statement_timeout=5000', 'idle_session_timeout=60000', 'client_connection_check_interval=1000']));
    const tables = await query<{ owner: string }>(ownerUrl, "SELECT DISTINCT tableowner AS owner FROM pg_tables WHERE schemaname = 'public'");
    expect(tables).toEqual([{ owner: names.owner }]);
  });

  it('leaves the app role in rds_iam (IAM logins) and the owner out of it (password logins), neither a superuser', async () => {
    const roles = await query<{ rolname: string; direct: boolean; uses: boolean; rolsuper: boolean; rolcreatedb: boolean }>(
      superUrl(),
      `SELECT r.rolname, r.rolsuper, r.rolcreatedb,
              EXISTS (SELECT 1 FROM pg_auth_members m WHERE m.roleid = 'rds_iam'::regrole AND m.member = r.oid) AS direct,
              pg_has_role(r.oid, 'rds_iam', 'USAGE') AS uses
         FROM pg_roles r WHERE r.rolname = ANY($1) ORDER BY r.rolname = $2`,
      [[names.app, names.owner], names.owner],
    );
    expect(roles).toEqual([
      { rolname: names.app, direct: true, uses: true, rolsuper: false, rolcreatedb: false },
      { rolname: names.owner, direct: false, uses: false, rolsuper: false, rolcreatedb: false },
    ]);
    // The owner's one membership (16+): ADMIN OPTION on the app role, neither inherited nor SET-able.
    // Through it pg_has_role(owner, 'rds_iam', 'MEMBER') is true on 16+ — as it is for the RDS master
    // after AWS's own recipe (CREATE USER x; GRANT rds_iam TO x), since 16 makes every CREATEROLE
    // creator an ADMIN-only member of what it creates; RDS keeps that master on its password, so
    // it judges the grant the owner lacks: direct, or inherited (USAGE), membership.
    const version = Number((await query<{ v: string }>(superUrl(), "SELECT current_setting('server_version_num') AS v"))[0]!.v);
    const grants = await query(
      superUrl(),
      `SELECT m.roleid::regrole::text AS role, m.admin_option AS admin${version >= 160000 ? ', m.inherit_option AS inherit, m.set_option AS set' : ''}
         FROM pg_auth_members m WHERE m.member = $1::regrole`,
      [names.owner],
    );
    expect(grants).toEqual(version >= 160000 ? [{ role: names.app, admin: true, inherit: false, set: false }] : []);
    // The owner logs in with its password.
    expect(await query(ownerUrl, 'SELECT current_user AS u')).toEqual([{ u: names.owner }]);
  });

  it('lets the app role log in, read and write the migrated tables, under its role settings', async () => {
    // On RDS an IAM token is the password; a stand-in password plays it here.
    const token = randomBytes(12).toString('hex');
    await query(superUrl(), `ALTER ROLE ${names.app} PASSWORD '${token}'`);
    const appUrl = withUser(superUrl(), names.app, token, names.database);
    const [row] = await query(appUrl, "SELECT current_user AS u, current_setting('statement_timeout') AS t, (SELECT count(*) FROM users)::int AS n");
    expect(row).toEqual({ u: names.app, t: '5s', n: 0 });
    await query(appUrl, 'DELETE FROM users WHERE false');
    await expect(query(appUrl, 'CREATE TABLE not_the_app_s (x int)')).rejects.toThrow(/permission denied/);
  });

  it('takes an owner set up by the old docs (GRANT rds_iam TO the owner) out of rds_iam', async () => {
    await query(masterUrl, `GRANT rds_iam TO ${names.owner}`);
    // Without a password to give it, taking it out would leave it no way to log in.
    await expect(bootstrapDatabase(masterUrl, { ...options(), ownerPassword: undefined })).rejects.toThrow(/logs in by IAM token only .* set OWNER_DB_PASSWORD/);
    const repaired = await bootstrapDatabase(masterUrl, options());
    expect(repaired.changes).toEqual([
      `role ${names.owner}: removed from rds_iam (it logs in with its password)`,
      `role ${names.owner}: password set`,
    ]);
    expect(await query(ownerUrl, 'SELECT current_user AS u')).toEqual([{ u: names.owner }]);
    expect((await bootstrapDatabase(masterUrl, options())).changes).toEqual([]);
  });

  it('hands a database the master created (as older docs said) to the owner, keeping no membership of its own', async () => {
    const url = superUrl();
    const version = Number((await query<{ v: string }>(url, "SELECT current_setting('server_version_num') AS v"))[0]!.v);
    const masterGrants = () =>
      query(url, `SELECT m.admin_option AS admin FROM pg_auth_members m WHERE m.member = $1::regrole AND m.roleid = $2::regrole`, [names.master, names.owner]);
    const before = await masterGrants();
    await query(masterUrl, `CREATE DATABASE ${names.database}_old`);
    const result = await bootstrapDatabase(withUser(url, names.master, passwords.master, `${names.database}_old`), { ...options(), database: `${names.database}_old` });
    expect(result.changes).toEqual([`database ${names.database}_old: owner ${names.master} -> ${names.owner}`]);
    const [db] = await query(url, 'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1', [`${names.database}_old`]);
    expect(db).toEqual({ owner: names.owner });
    // 16+: only the ADMIN OPTION PostgreSQL gave the master as the owner's creator; 15: nothing.
    expect(await masterGrants()).toEqual(before);
    expect(before).toEqual(version >= 160000 ? [{ admin: true }] : []);
  });

  it('leaves no application connection', () => expectNoAppConnections());
}
