import pg from 'pg';
import { expect, inject } from 'vitest';

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

export async function appConnectionCount(): Promise<number> {
  const rows = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1', [appRole()]);
  return Number(rows[0]?.n ?? 0);
}

/**
 * Asserts the application role holds no connection. A closed connection's backend needs a
 * moment to exit, so this polls briefly; a real leak stays and fails.
 */
export async function expectNoAppConnections(withinMs = 2_000): Promise<void> {
  const until = Date.now() + withinMs;
  let count = await appConnectionCount();
  while (count > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
    count = await appConnectionCount();
  }
  expect(count, 'connections of the application role left open').toBe(0);
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
