import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { runner } from 'node-pg-migrate';
import { syncKept } from './kept-sync.js';

// Creating the database and application role, and migrating, need an admin connection;
// the app itself only ever connects as the application role.

const MIGRATIONS_DIR = fileURLToPath(new URL('../../lib/migrations', import.meta.url));

/** Server-side limits live on the role (no startup options: RDS Proxy pins or refuses those). */
export interface RoleSettings {
  statementTimeoutMs: number;
  idleInTransactionTimeoutMs: number;
  idleSessionTimeoutMs: number;
  /** How often a busy backend checks whether its client hung up (PostgreSQL 14+). */
  clientConnectionCheckMs: number;
}

export const DEFAULT_ROLE_SETTINGS: RoleSettings = {
  statementTimeoutMs: 5_000,
  idleInTransactionTimeoutMs: 5_000,
  idleSessionTimeoutMs: 60_000,
  clientConnectionCheckMs: 1_000,
};

/**
 * The role's limits for how the functions reach the database. Direct: idle_session_timeout ends
 * a session a crashed container left open after a minute. Behind RDS Proxy, idle sessions are the
 * proxy's pool, kept on purpose and closed by the proxy itself (MaxIdleConnectionsPercent): the
 * server must not kill them, or clients would pay for new connections behind the proxy too.
 */
export function roleSettingsFor(mode: 'direct' | 'proxy'): RoleSettings {
  return mode === 'proxy' ? { ...DEFAULT_ROLE_SETTINGS, idleSessionTimeoutMs: 0 } : DEFAULT_ROLE_SETTINGS;
}

/** One admin connection for `fn`, closed whatever happens. */
export async function withAdmin<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url, application_name: 'cashbook-setup' });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function createDatabase(adminUrl: string, database: string): Promise<void> {
  await withAdmin(adminUrl, async (c) => {
    const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await c.query(`CREATE DATABASE ${c.escapeIdentifier(database)}`);
  });
}

export async function migrate(url: string, log: (msg: string) => void = () => {}): Promise<string[]> {
  const done = await runner({
    databaseUrl: url,
    dir: MIGRATIONS_DIR,
    direction: 'up',
    migrationsTable: 'pgmigrations',
    log,
    logger: { info: log, warn: log, error: log, debug: () => {} },
    checkOrder: true,
  });
  const kept = await withAdmin(url, (client) => syncKept(client));
  for (const name of kept.created) log(`kept statement ${name} created`);
  for (const name of kept.dropped) log(`kept statement ${name} dropped (no longer sent)`);
  return done.map((m) => m.name);
}

/** Whether `member` is directly a member of `role`, and with ADMIN OPTION (16+ keeps a row per grantor). */
export async function membership(c: pg.Client, role: string, member: string): Promise<{ admin: boolean } | undefined> {
  const { rows } = await c.query<{ admin: boolean }>(
    `SELECT bool_or(m.admin_option) AS admin FROM pg_auth_members m
       JOIN pg_roles r ON r.oid = m.roleid JOIN pg_roles u ON u.oid = m.member
      WHERE r.rolname = $1 AND u.rolname = $2`,
    [role, member],
  );
  return rows[0]?.admin === null || rows[0]?.admin === undefined ? undefined : { admin: rows[0].admin };
}

/**
 * Creates or updates the application role: password (or RDS IAM auth), CONNECTION LIMIT,
 * limits, table grants. With `iam`, the role has no password and is granted `rds_iam`, so RDS
 * accepts only IAM tokens for it (the role exists on RDS only) — from the functions directly, or
 * from RDS Proxy with end-to-end IAM, which logs in with tokens of its own role.
 */
export async function setupAppRole(
  adminUrl: string,
  role: { name: string; password?: string; iam?: boolean; connectionLimit: number; settings?: RoleSettings },
): Promise<void> {
  const s = role.settings ?? DEFAULT_ROLE_SETTINGS;
  if (!role.iam && !role.password) throw new Error(`setupAppRole: ${role.name} needs a password or iam: true`);
  await withAdmin(adminUrl, async (c) => {
    const name = c.escapeIdentifier(role.name);
    const { rowCount } = await c.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role.name]);
    const verb = rowCount ? 'ALTER' : 'CREATE';
    const password = role.iam ? 'PASSWORD NULL' : `PASSWORD ${c.escapeLiteral(role.password!)}`;
    await c.query(`${verb} ROLE ${name} LOGIN ${password} CONNECTION LIMIT ${Math.trunc(role.connectionLimit)}`);
    // Granting a role takes ADMIN OPTION on it from PostgreSQL 16, which the owner never gets on
    // rds_iam: `npm run bootstrap-db` grants the membership once, as the master user.
    if (role.iam) {
      if (!(await membership(c, 'rds_iam', role.name))) {
        await c.query(`GRANT rds_iam TO ${name}`).catch((err: Error & { code?: string }) => {
          throw err.code === '42501' ? new Error(`${err.message}: run \`npm run bootstrap-db\` as the master user first (docs/deploy.md)`, { cause: err }) : err;
        });
      }
    }
    const settings: Array<[string, number]> = [
      ['statement_timeout', s.statementTimeoutMs],
      ['idle_in_transaction_session_timeout', s.idleInTransactionTimeoutMs],
      ['idle_session_timeout', s.idleSessionTimeoutMs],
      ['client_connection_check_interval', s.clientConnectionCheckMs],
    ];
    for (const [key, value] of settings) {
      await c.query(`ALTER ROLE ${name} SET ${key} = ${Math.trunc(value)}`);
    }
    await c.query(`GRANT USAGE ON SCHEMA public TO ${name}`);
    await c.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${name}`);
    await c.query(`ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${name}`);
    // The book activity (entries' history) is append-only for the application (migration 1764000080000).
    const { rows: appendOnly } = await c.query<{ exists: boolean }>(`SELECT to_regclass('public.book_activity') IS NOT NULL AS exists`);
    if (appendOnly[0]?.exists) await c.query(`REVOKE UPDATE, DELETE, TRUNCATE ON book_activity FROM ${name}`);
  });
}

/** The server's max_connections (RDS derives it from the instance's memory unless set). */
export async function serverMaxConnections(adminUrl: string): Promise<number> {
  return withAdmin(adminUrl, async (c) => {
    const { rows } = await c.query<{ max_connections: string }>('SHOW max_connections');
    return Number(rows[0]?.max_connections);
  });
}

/** Superuser-side view of the app role's live connections (tests and bench). */
export async function appConnections(adminUrl: string, role: string): Promise<number> {
  return withAdmin(adminUrl, async (c) => {
    const { rows } = await c.query<{ n: string }>(
      'SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1',
      [role],
    );
    return Number(rows[0]?.n ?? 0);
  });
}
