import pg from 'pg';
import { expect, inject } from 'vitest';
import { poolerActivity } from '../../scripts/lib/pgbouncer.js';

// Superuser-side helpers: tests observe the application role from outside, as an operator would.

let target: { adminUrl: string; appRole: string } | undefined;

/** Points these helpers at another server (fault tests that run their own PostgreSQL). */
export function useDatabase(next: { adminUrl: string; appRole: string } | undefined): void {
  target = next;
}

const adminUrl = () => target?.adminUrl ?? inject('adminUrl');
const appRole = () => target?.appRole ?? inject('appRole');

export async function adminQuery<R extends pg.QueryResultRow = Record<string, unknown>>(
  text: string,
  values: unknown[] = [],
): Promise<R[]> {
  const client = new pg.Client({ connectionString: adminUrl(), application_name: 'cashbook-test-admin' });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function appConnectionCount(): Promise<number> {
  const rows = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [appRole()]);
  return Number(rows[0]?.n ?? 0);
}

/** PgBouncer in front of the app role (TEST_POOLER=pgbouncer), unless a test points elsewhere. */
const pooler = () => (target ? null : inject('pooler'));

/**
 * What the application holds. Direct: every backend of the app role. Through PgBouncer, which
 * keeps up to its pool size of idle server connections open by design: the application's
 * client connections to PgBouncer, server connections busy for a client, and backends of the
 * role that are not idle or exceed the pool size (none of which PgBouncer should ever keep).
 */
async function heldByApplication(): Promise<{ count: number; detail: string }> {
  const p = pooler();
  if (!p) {
    const count = await appConnectionCount();
    return { count, detail: `${count} backends of the app role` };
  }
  const activity = await poolerActivity(p.consoleUrl, p.database);
  const [row] = await adminQuery<{ n: string; busy: string }>(
    "SELECT count(*) AS n, count(*) FILTER (WHERE state IS DISTINCT FROM 'idle') AS busy FROM pg_stat_activity WHERE usename = $1",
    [appRole()],
  );
  const backends = Number(row?.n ?? 0);
  const busy = Number(row?.busy ?? 0);
  const count = activity.clients + activity.activeServers + busy + Math.max(0, backends - p.poolSize);
  return {
    count,
    detail: `PgBouncer clients ${activity.clients}, busy server connections ${activity.activeServers}; backends ${backends} (${busy} not idle, pool size ${p.poolSize})`,
  };
}

/**
 * Asserts the application role holds no connection (through PgBouncer: no client connection,
 * and only idle pooled server connections within the pool size). A closed connection's backend
 * needs a moment to exit, so this polls briefly; a real leak stays and fails.
 */
export async function expectNoAppConnections(withinMs = 2_000): Promise<void> {
  const until = Date.now() + withinMs;
  let held = await heldByApplication();
  while (held.count > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    held = await heldByApplication();
  }
  expect(held.count, `connections of the application role left open (${held.detail})`).toBe(0);
}

export async function resetData(): Promise<void> {
  await adminQuery('TRUNCATE transactions, users, login_limits CASCADE');
}

/** Runs `work` while sampling the application role's live connections every few ms. */
export async function peakConnections<T>(work: () => Promise<T>): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let running = true;
  const sampler = (async () => {
    while (running) {
      peak = Math.max(peak, await appConnectionCount());
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    return { result: await work(), peak };
  } finally {
    running = false;
    await sampler;
  }
}

/**
 * A totals table (book_totals, or transfer_totals) equals a recompute from the ledger rows, row
 * for row; `where` picks the rows it totals.
 */
export async function expectTotalsMatchRows(table: string, where: string): Promise<void> {
  const [diff] = await adminQuery<{ differing: string }>(
    `WITH expected AS (
       SELECT t.book_id, g.grain,
              CASE g.grain WHEN 0 THEN t.date WHEN 1 THEN date_trunc('month', t.date::timestamp)::date
                           ELSE date_trunc('year', t.date::timestamp)::date END AS starts,
              CASE g.grain WHEN 1 THEN t.category ELSE '' END::varchar(100) AS category,
              CASE g.grain WHEN 1 THEN t.type ELSE '' END AS type,
              count(*)::bigint AS entries, sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END) AS net
       FROM transactions t CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain) WHERE ${where} GROUP BY 1, 2, 3, 4, 5
     )
     SELECT count(*) AS differing FROM ((SELECT * FROM expected EXCEPT SELECT * FROM ${table})
                                        UNION ALL (SELECT * FROM ${table} EXCEPT SELECT * FROM expected)) AS d`,
  );
  expect(diff, `${table} rows differing from a recompute`).toEqual({ differing: '0' });
}
