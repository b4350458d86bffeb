import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as register } from '../../../functions/register.js';
import { login as loginDirect } from '../../../lib/auth/accounts.js';
import { newStats } from '../../../lib/db.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// After 5 failed logins for one username within 15 minutes: 429 until the window passes.

const login = (username: string, password: string) =>
  invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username, password } });
const PASSWORD = 'correct-horse-battery';
const FAILED = { detail: 'No active account found with the given credentials' };

async function failTimes(username: string, n: number) {
  for (let i = 0; i < n; i++) {
    const res = await login(username, `wrong-${i}`);
    expect(res.status).toBe(401);
    expect(res.body).toEqual(FAILED);
  }
}

describe('login brute-force limit', () => {
  beforeEach(async () => {
    await resetData();
    await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'carol', password: PASSWORD } });
  });
  afterAll(() => expectNoAppConnections());

  it('answers 429 throttled with Retry-After after 5 failures, even for the right password', async () => {
    await failTimes('carol', 5);
    const res = await login('carol', PASSWORD);
    expect(res.status).toBe(429);
    expect(res.body).toEqual({ detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds?\.$/), code: 'throttled' });
    const retryAfter = Number(res.headers['Retry-After']);
    expect(retryAfter).toBeGreaterThan(890);
    expect(retryAfter).toBeLessThanOrEqual(900);
    await expectNoAppConnections();
  });

  it('treats an unknown username exactly like a known one', async () => {
    await failTimes('nobody-here', 5);
    const unknown = await login('nobody-here', PASSWORD);
    await failTimes('carol', 5);
    const known = await login('carol', PASSWORD);
    expect(unknown.status).toBe(429);
    expect(unknown.body.code).toBe('throttled');
    expect(Object.keys(unknown.headers).sort()).toEqual(Object.keys(known.headers).sort());
    expect(unknown.body.detail.replace(/\d+/, 'N')).toBe(known.body.detail.replace(/\d+/, 'N'));
  });

  it('counts per username: another user is not affected', async () => {
    await failTimes('carol', 5);
    await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'dave', password: PASSWORD } });
    expect((await login('dave', PASSWORD)).status).toBe(200);
  });

  it('resets the count on a successful login', async () => {
    await failTimes('carol', 4);
    expect((await login('carol', PASSWORD)).status).toBe(200);
    expect(await adminQuery('SELECT 1 FROM login_failures WHERE username = $1', ['carol'])).toHaveLength(0);
    await failTimes('carol', 4);
    expect((await login('carol', PASSWORD)).status).toBe(200);
  });

  it('lets the user in again once the window has passed', async () => {
    await failTimes('carol', 5);
    expect((await login('carol', PASSWORD)).status).toBe(429);
    await adminQuery("UPDATE login_failures SET window_started = now() - interval '16 minutes'");
    expect((await login('carol', PASSWORD)).status).toBe(200);
  });

  it('starts a new window for failures after an expired one, and purges old rows of other names', async () => {
    await failTimes('carol', 3);
    await adminQuery("INSERT INTO login_failures (username, failures, window_started) VALUES ('stale', 9, now() - interval '2 hours')");
    await adminQuery("UPDATE login_failures SET window_started = now() - interval '16 minutes' WHERE username = 'carol'");
    await failTimes('carol', 1);
    const rows = await adminQuery<{ username: string; failures: number }>('SELECT username, failures FROM login_failures ORDER BY username');
    expect(rows).toEqual([{ username: 'carol', failures: 1 }]);
  });

  it('keeps the limit exact under a burst of parallel guesses', async () => {
    const replies = await Promise.all(Array.from({ length: 12 }, () => login('carol', 'wrong-password')));
    const statuses = replies.map((r) => r.status);
    // Each attempt is counted before its password is checked: at most 5 guesses are ever checked.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(5);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(7);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
  });

  it('leaves nothing behind after a first-time successful login', async () => {
    expect((await login('carol', PASSWORD)).status).toBe(200);
    expect(await adminQuery('SELECT 1 FROM login_failures')).toHaveLength(0);
  });

  it('uses one connection to count the attempt and read the user, one short one to reset after a success, never one across the hash', async () => {
    const attempt = async (username: string, password: string) => {
      const stats = newStats();
      const started = performance.now();
      const ok = await loginDirect({ username, password }, { stats }).then(() => true, () => false);
      return { ok, stats, totalMs: performance.now() - started };
    };
    const failure = await attempt('carol', 'wrong-password');
    expect(failure.ok).toBe(false);
    expect(failure.stats.connectAttempts).toBe(1);
    // The scrypt check runs after the connection is closed, so it is held for less than the whole.
    expect(failure.stats.heldMs).toBeLessThan(failure.totalMs);
    const unknown = await attempt('nobody-at-all', 'wrong-password');
    expect(unknown.stats.connectAttempts).toBe(1);
    const success = await attempt('carol', PASSWORD);
    expect(success).toMatchObject({ ok: true, stats: { connectAttempts: 2 } });
  });
});
