import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as create } from '../../functions/create-transaction.js';
import { handler as list } from '../../functions/list-transactions.js';
import { withConnection } from '../../lib/db.js';
import { api } from '../../lib/http/api.js';
import { signUp } from '../support/accounts.js';
import { adminQuery, expectNoAppConnections, peakConnections, resetData } from '../support/db.js';
import { invoke } from '../support/events.js';

// The 2-connection database that broke the old backend: many concurrent invocations, one
// connection-limited role (CONNECTION LIMIT 2 in the test setup).

let token = '';

describe('overload on a 2-connection role', () => {
  beforeAll(async () => {
    await resetData();
    ({ access: token } = await signUp('load'));
  });
  afterAll(() => expectNoAppConnections());

  it('answers 40 concurrent list invocations, all 200, never above 2 connections', async () => {
    const { result, peak } = await peakConnections(() =>
      Promise.all(Array.from({ length: 40 }, () => invoke(list, { path: '/api/transactions/', token }))),
    );
    expect(result.map((r) => r.status)).toEqual(Array(40).fill(200));
    expect(peak).toBeLessThanOrEqual(2);
    await expectNoAppConnections();
  });

  it('writes exactly one row for each of 40 concurrent creates', async () => {
    const { result, peak } = await peakConnections(() =>
      Promise.all(
        Array.from({ length: 40 }, (_, i) =>
          invoke(create, { method: 'POST', path: '/api/transactions/', token, body: { type: 'income', amount: `${i + 1}.00` } }),
        ),
      ),
    );
    expect(result.map((r) => r.status)).toEqual(Array(40).fill(201));
    expect(peak).toBeLessThanOrEqual(2);
    const [row] = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM transactions');
    expect(Number(row?.n)).toBe(40);
    await expectNoAppConnections();
  });
});

describe('early timeout', () => {
  afterAll(() => expectNoAppConnections());

  // A handler whose query outlives the invocation.
  const sleepy = api({ auth: false }, (req) => withConnection((db) => db.query('SELECT pg_sleep(5) /* sleepy */'), req.connection));

  it('answers 504 before the Lambda deadline, and the backend is gone within a second', async () => {
    const started = Date.now();
    // 4 s left, TIMEOUT_EARLY_MS = 1000: middy aborts after ~3 s, during pg_sleep(5).
    const res = await invoke(sleepy, { path: '/sleepy' }, 4_000);
    const elapsed = Date.now() - started;
    expect(res.status).toBe(504);
    expect(res.body).toEqual({ detail: 'The request took too long and was cancelled.', code: 'timeout' });
    expect(elapsed).toBeLessThan(4_000);
    await expectNoAppConnections(1_000);
    const running = await adminQuery("SELECT 1 FROM pg_stat_activity WHERE query LIKE '%/* sleepy */%' AND pid <> pg_backend_pid()");
    expect(running).toEqual([]);
  });

  it("answers a query past the role's statement_timeout (5 s) cleanly and closes the connection", async () => {
    const slow = api({ auth: false }, (req) => withConnection((db) => db.query('SELECT pg_sleep(7)'), req.connection));
    const res = await invoke(slow, { path: '/slow' }, 9_000);
    expect([503, 504]).toContain(res.status);
    expect(res.body.code).toMatch(/^(timeout|database_unavailable)$/);
    await expectNoAppConnections();
  }, 15_000);
});
