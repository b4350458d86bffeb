import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { newStats, scramDerivations, withConnection, withTransaction } from '../../lib/db.js';
import { DatabaseUnavailable, RequestTimeout } from '../../lib/errors.js';
import { adminQuery, expectNoAppConnections, peakConnections, resetData } from '../support/db.js';

// The connection helper against real PostgreSQL, observed from pg_stat_activity.

const appRole = () => getConfig().db.user;

async function backendsRunning(query: string): Promise<number> {
  const rows = await adminQuery<{ n: string }>(
    'SELECT count(*) AS n FROM pg_stat_activity WHERE usename = $1 AND query LIKE $2',
    [appRole(), `%${query}%`],
  );
  return Number(rows[0]?.n);
}

describe('withConnection', () => {
  beforeEach(resetData);
  afterAll(() => expectNoAppConnections());

  it('runs fn on one connection, named for the function, and closes it', async () => {
    const stats = newStats();
    const row = await withConnection(
      async (db) => (await db.query<{ app: string }>('SELECT current_setting($1) AS app', ['application_name'])).rows[0],
      { stats },
    );
    // Behind a pooler, the stage's name (the function's without its last '-' part: lib/config.ts).
    expect(row?.app).toBe(inject('pooler') ? 'cashbook' : 'cashbook-test');
    expect(stats.connectAttempts).toBeGreaterThanOrEqual(1);
    expect(stats.heldMs).toBeGreaterThan(0);
    await expectNoAppConnections();
  });

  it('closes the connection when fn throws, and rethrows the error unchanged', async () => {
    const boom = new Error('boom');
    await expect(withConnection(async () => Promise.reject(boom))).rejects.toBe(boom);
    await expectNoAppConnections();
  });

  it('keeps SQLSTATEs of ordinary SQL errors for the data layer', async () => {
    await expect(withConnection((db) => db.query('SELECT 1/0'))).rejects.toMatchObject({ code: '22012' });
    await expectNoAppConnections();
  });

  it('ends the client at once when the signal aborts during pg_sleep(5), and the backend goes away', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const pending = withConnection((db) => db.query('SELECT pg_sleep(5) /* abort-me */'), { signal: controller.signal });
    // Wait until the query is really running on the server.
    while ((await backendsRunning('abort-me */')) === 0) await new Promise((r) => setTimeout(r, 20));
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(RequestTimeout);
    expect(Date.now() - started).toBeLessThan(4_000);
    // The server notices the closed socket (client_connection_check_interval on the role).
    await expectNoAppConnections(1_500);
  });

  it('gives up with DatabaseUnavailable when the server cannot be reached, within the deadline', async () => {
    const db = { ...getConfig().db, port: 1 };
    const started = Date.now();
    const stats = newStats();
    await expect(withConnection((c) => c.query('SELECT 1'), { db, deadline: Date.now() + 500, stats })).rejects.toBeInstanceOf(
      DatabaseUnavailable,
    );
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(stats.connectAttempts).toBeGreaterThan(1);
  });

  it('never retries bad credentials', async () => {
    const db = { ...getConfig().db, password: 'wrong-password' };
    const stats = newStats();
    await expect(withConnection((c) => c.query('SELECT 1'), { db, stats })).rejects.toBeInstanceOf(DatabaseUnavailable);
    expect(stats.connectAttempts).toBe(1);
    await expectNoAppConnections();
  });

  it('derives the role\'s SCRAM key once per container, and still refuses a wrong password', async () => {
    const rows = await adminQuery<{ scram: boolean }>(`SELECT rolpassword LIKE 'SCRAM-SHA-256$%' AS scram FROM pg_authid WHERE rolname = $1`, [appRole()]);
    expect(rows).toEqual([{ scram: true }]);
    await withConnection((c) => c.query('SELECT 1'));
    const derived = scramDerivations();
    await withConnection((c) => c.query('SELECT 1'));
    await withConnection((c) => c.query('SELECT 1'));
    expect(scramDerivations()).toBe(derived);
    const db = { ...getConfig().db, password: `${getConfig().db.password}-but-wrong` };
    await expect(withConnection((c) => c.query('SELECT 1'), { db })).rejects.toBeInstanceOf(DatabaseUnavailable);
    expect(scramDerivations()).toBe(derived + 1);
    await withConnection((c) => c.query('SELECT 1'));
    await expectNoAppConnections();
  });

  it('waits for a free slot when the role is at its connection limit, never exceeding it', async () => {
    const { result: results, peak } = await peakConnections(() =>
      Promise.all(
        Array.from({ length: 8 }, () =>
          withConnection(async (db) => (await db.query('SELECT 1 AS one, pg_sleep(0.05)')).rows.length, {
            deadline: Date.now() + 10_000,
          }),
        ),
      ),
    );
    expect(results).toEqual(Array(8).fill(1));
    expect(peak).toBeLessThanOrEqual(2);
    await expectNoAppConnections();
  });

  it('maps a query cancelled by statement_timeout to RequestTimeout and closes the connection', async () => {
    await expect(
      withTransaction(async (db) => {
        await db.query("SELECT set_config('statement_timeout', '100', true)");
        await db.query('SELECT pg_sleep(2)');
      }),
    ).rejects.toBeInstanceOf(RequestTimeout);
    await expectNoAppConnections();
  });
});

describe('withTransaction', () => {
  afterAll(() => expectNoAppConnections());

  it('commits on success and rolls back everything when fn throws', async () => {
    await resetData();
    const insertUser = "INSERT INTO users (username, password_hash) VALUES ($1, 'x')";
    await withTransaction((db) => db.query(insertUser, ['kept']));
    await expect(
      withTransaction(async (db) => {
        await db.query(insertUser, ['rolled-back']);
        throw new Error('fault after the write');
      }),
    ).rejects.toThrow('fault after the write');
    const rows = await adminQuery<{ username: string }>('SELECT username FROM users ORDER BY username');
    expect(rows.map((r) => r.username)).toEqual(['kept']);
    await expectNoAppConnections();
  });
});
