import pg from 'pg';
import { membership } from './database-setup.js';

// `npm run bootstrap-db`: the database roles, created once with the RDS master user, so that every
// deploy's migration step can run as the owner — migrations, then setupAppRole (CONNECTION LIMIT,
// role settings, grants on the app role) — on PostgreSQL 15 and 16+ alike:
//
// - the owner: LOGIN with a password, CREATEROLE, owner of the database (so of its `public`
//   schema, pg_database_owner's since PostgreSQL 15) and so of every table the migrations create.
//   Never a member of rds_iam: on RDS a member of rds_iam can log in with IAM tokens only, and the
//   owner's password is what keeps the deploy independent of the master user.
// - the application role: LOGIN, no password, granted rds_iam by the master (IAM mode). The deploy
//   sets everything else on it, as the owner.
// - PostgreSQL 16+: CREATEROLE no longer covers roles its holder did not create; altering a role
//   needs ADMIN OPTION on it, and so does granting it. The master (who created the app role and so
//   holds ADMIN OPTION on it) gives the owner ADMIN OPTION on the app role, without INHERIT or SET:
//   the owner may ALTER it, never act as it. The owner gets no ADMIN OPTION on rds_iam: the
//   membership is granted here, once, and setupAppRole leaves an existing one alone.
//   PostgreSQL 15: CREATEROLE alone lets the owner alter the app role; nothing else is granted.
//
// Idempotent: each step looks first and changes only what differs, and the result lists every
// change (empty on a second run).

export interface BootstrapOptions {
  /** The database the service uses (created when missing, owned by `owner`). */
  database: string;
  owner: string;
  /** Needed only when the owner role is created (an existing owner keeps its password). */
  ownerPassword?: string;
  app: string;
  /** `iam` (RDS): the app role joins rds_iam. `password`: the deploy gives it APP_DB_PASSWORD. */
  appAuth: 'iam' | 'password';
}

export interface BootstrapResult {
  /** What this run changed, one line each; empty when everything was already in place. */
  changes: string[];
  /** Things to look at that the bootstrap leaves to a person. */
  warnings: string[];
}

export class BootstrapError extends Error {
  override readonly name = 'BootstrapError';
}

/** The same server and credentials, another database. */
function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${encodeURIComponent(database)}`;
  return u.toString();
}

async function connect(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url, application_name: 'cashbook-bootstrap' });
  await client.connect();
  return client;
}


/**
 * Creates or completes the owner and application roles and the database, as the RDS master user
 * (rds_superuser: CREATEROLE, CREATEDB, not a superuser). `masterUrl` may name any database the
 * master can reach; roles and the database are handled from the `postgres` database.
 */
export async function bootstrapDatabase(masterUrl: string, options: BootstrapOptions): Promise<BootstrapResult> {
  const { database, owner, app } = options;
  if (owner === app) throw new BootstrapError('the owner and the application role must be different roles');
  const changes: string[] = [];
  const warnings: string[] = [];
  const c = await connect(withDatabase(masterUrl, 'postgres'));
  try {
    const id = (name: string) => c.escapeIdentifier(name);
    const run = async (sql: string, change: string) => {
      await c.query(sql);
      changes.push(change);
    };
    const pg16 = Number((await c.query<{ v: string }>("SELECT current_setting('server_version_num') AS v")).rows[0]!.v) >= 160000;
    const { rows: found } = await c.query<{ rolname: string; rolcanlogin: boolean; rolcreaterole: boolean }>(
      'SELECT rolname, rolcanlogin, rolcreaterole FROM pg_roles WHERE rolname = ANY($1)',
      [[owner, app, 'rds_iam']],
    );
    const existing = new Map(found.map((r) => [r.rolname, r]));
    if (options.appAuth === 'iam' && !existing.has('rds_iam')) {
      throw new BootstrapError('this server has no rds_iam role (not RDS?): use --app-auth password for a password-authenticated application role');
    }

    const ownerRole = existing.get(owner);
    if (!ownerRole) {
      if (!options.ownerPassword) throw new BootstrapError(`role ${owner} does not exist yet: set OWNER_DB_PASSWORD to create it`);
      await run(
        `CREATE ROLE ${id(owner)} LOGIN CREATEROLE PASSWORD ${c.escapeLiteral(options.ownerPassword)}`,
        `created role ${owner} (LOGIN, CREATEROLE, password)`,
      );
    } else if (!ownerRole.rolcanlogin || !ownerRole.rolcreaterole) {
      await run(`ALTER ROLE ${id(owner)} LOGIN CREATEROLE`, `role ${owner}: LOGIN, CREATEROLE`);
    }
    // An owner set up as older docs said (GRANT rds_iam TO cashbook_owner) could log in only with
    // IAM tokens: take it out and give it its password. Without a password to give, taking it out
    // would leave it no way to log in at all: refuse instead.
    if (existing.has('rds_iam') && (await membership(c, 'rds_iam', owner))) {
      if (!options.ownerPassword) {
        throw new BootstrapError(`role ${owner} logs in by IAM token only (a member of rds_iam): set OWNER_DB_PASSWORD to give it a password and take it out of rds_iam`);
      }
      await run(`REVOKE rds_iam FROM ${id(owner)}`, `role ${owner}: removed from rds_iam (it logs in with its password)`);
      await run(`ALTER ROLE ${id(owner)} PASSWORD ${c.escapeLiteral(options.ownerPassword)}`, `role ${owner}: password set`);
    }

    if (!existing.has(app)) {
      // The deploy (setupAppRole, as the owner) sets its CONNECTION LIMIT, settings and grants.
      await run(`CREATE ROLE ${id(app)} LOGIN`, `created role ${app} (LOGIN, no password)`);
    }
    if (options.appAuth === 'iam' && !(await membership(c, 'rds_iam', app))) {
      await run(`GRANT rds_iam TO ${id(app)}`, `role ${app}: granted rds_iam (IAM authentication)`);
    }
    if (pg16 && !(await membership(c, app, owner))?.admin) {
      await run(
        `GRANT ${id(app)} TO ${id(owner)} WITH ADMIN OPTION, INHERIT FALSE, SET FALSE`,
        `role ${owner}: ADMIN OPTION on ${app} (no INHERIT, no SET), to alter it on each deploy`,
      );
    }

    const { rows: dbs } = await c.query<{ owner: string }>(
      'SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1',
      [database],
    );
    if (dbs[0]?.owner !== owner) {
      // Giving an object to a role needs the right to SET ROLE to it, for the statement only.
      const canSet = (await c.query<{ ok: boolean }>('SELECT pg_has_role(current_user, $1, $2) AS ok', [owner, pg16 ? 'SET' : 'MEMBER'])).rows[0]!.ok;
      if (!canSet) await c.query(`GRANT ${id(owner)} TO CURRENT_USER${pg16 ? ' WITH INHERIT FALSE, SET TRUE' : ''}`);
      try {
        if (dbs.length) await run(`ALTER DATABASE ${id(database)} OWNER TO ${id(owner)}`, `database ${database}: owner ${dbs[0]!.owner} -> ${owner}`);
        else await run(`CREATE DATABASE ${id(database)} OWNER ${id(owner)}`, `created database ${database}, owned by ${owner}`);
      } finally {
        if (!canSet) await c.query(`REVOKE ${id(owner)} FROM CURRENT_USER`);
      }
    }
  } finally {
    await c.end();
  }

  // What the owner could not migrate: tables and sequences someone else created in public.
  const t = await connect(withDatabase(masterUrl, database));
  try {
    const { rows } = await t.query<{ name: string; owner: string }>(
      `SELECT c.relname AS name, pg_get_userbyid(c.relowner) AS owner FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S', 'v', 'm') AND pg_get_userbyid(c.relowner) <> $1
        ORDER BY 1`,
      [owner],
    );
    for (const r of rows) {
      warnings.push(`public.${r.name} is owned by ${r.owner}, not ${owner}: migrations cannot alter it (as its owner: ALTER TABLE public.${r.name} OWNER TO ${owner})`);
    }
  } finally {
    await t.end();
  }
  return { changes, warnings };
}
