import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as blacklistToken } from '../../../functions/blacklist-token.js';
import { handler as changePasswordHandler } from '../../../functions/change-password.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as getMe } from '../../../functions/get-me.js';
import { handler as getTx } from '../../../functions/get-transaction.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as refreshToken } from '../../../functions/refresh-token.js';
import { handler as revokeTokens } from '../../../functions/revoke-tokens.js';
import { blacklistRefreshToken } from '../../../lib/auth/blacklist.js';
import { changePassword } from '../../../lib/auth/password-change.js';
import { refreshTokens } from '../../../lib/auth/refresh.js';
import { revokeTokens as revokeDirect } from '../../../lib/auth/revoke.js';
import { signToken } from '../../../lib/auth/tokens.js';
import { newStats } from '../../../lib/db.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Log out (SimpleJWT's blacklist), log out everywhere, change password: which tokens stop
// working, when, and what each costs the database.

// Lets a test act between the password check and the write (lib/auth/password-change.ts:
// `hook`, before the new password's hash), and during a password check (`checking`: a login's
// or a password change's, after the hash comparison).
const between = vi.hoisted(() => ({
  hook: undefined as undefined | (() => Promise<void>),
  checking: undefined as undefined | (() => Promise<void>),
}));
vi.mock('../../../lib/auth/passwords.js', async (importOriginal) => {
  const original = await importOriginal<typeof import('../../../lib/auth/passwords.js')>();
  return {
    ...original,
    hashPassword: async (password: string) => {
      await between.hook?.();
      return original.hashPassword(password);
    },
    verifyPassword: async (password: string, hash: string | undefined) => {
      const ok = await original.verifyPassword(password, hash);
      await between.checking?.();
      return ok;
    },
  };
});

const PASSWORD = 'correct-horse-battery';
const BLACKLISTED = { detail: 'Token is blacklisted', code: 'token_not_valid' };
const INVALID = { detail: 'Token is invalid or expired', code: 'token_not_valid' };
const INACTIVE = { detail: 'User is inactive', code: 'user_inactive' };
const MISSING = '00000000-0000-4000-8000-000000000000';

type Session = { access: string; refresh: string };

const login = (username: string, password = PASSWORD) => invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username, password } });
const refresh = (token: string) => invoke(refreshToken, { method: 'POST', path: '/api/token/refresh/', body: { refresh: token } });
const logout = (body: unknown) => invoke(blacklistToken, { method: 'POST', path: '/api/token/blacklist/', body });
const revoke = (token: string) => invoke(revokeTokens, { method: 'POST', path: '/api/token/revoke/', token });
const me = (token: string) => invoke(getMe, { path: '/api/me/', token });
const changePasswordRequest = (token: string, body: unknown) =>
  invoke(changePasswordHandler, { method: 'POST', path: '/api/password/change/', token, body });
const tx = { type: 'expense', amount: '12.50', category: 'Food' };

/** Whether both tokens of a session are refused as revoked (access on a read and a write, refresh). */
async function expectRevoked(session: Session) {
  expect(await me(session.access)).toMatchObject({ status: 401, body: BLACKLISTED });
  // Refused before anything is read or written, even for a row that does not exist.
  const missing = await invoke(getTx, { path: `/api/transactions/${MISSING}/`, pathParameters: { id: MISSING }, token: session.access });
  expect(missing).toMatchObject({ status: 401, body: BLACKLISTED });
  expect(await invoke(createTx, { method: 'POST', path: '/api/transactions/', body: tx, token: session.access })).toMatchObject({ status: 401, body: BLACKLISTED });
  expect(await refresh(session.refresh)).toMatchObject({ status: 401, body: BLACKLISTED });
}

async function expectWorking(session: Session) {
  expect((await me(session.access)).status).toBe(200);
  expect((await refresh(session.refresh)).status).toBe(200);
}

let user: Awaited<ReturnType<typeof signUp>>;

beforeEach(async () => {
  await resetData();
  await adminQuery('TRUNCATE token_blacklist');
  user = await signUp('sessions');
});
afterEach(() => {
  between.hook = undefined;
  between.checking = undefined;
});
afterAll(() => expectNoAppConnections());

describe('POST /api/token/blacklist/ (log out)', () => {
  it('answers 200 {} and that refresh token stops working: refresh and a second logout are 401 blacklisted', async () => {
    const res = await logout({ refresh: user.refresh });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({});
    expect(await refresh(user.refresh)).toMatchObject({ status: 401, body: BLACKLISTED });
    expect(await logout({ refresh: user.refresh })).toMatchObject({ status: 401, body: BLACKLISTED });
    await expectNoAppConnections();
  });

  it('ends only that session; its access token lives on until it expires, as with SimpleJWT', async () => {
    const other = (await login(user.username)).body as Session;
    expect((await logout({ refresh: user.refresh })).status).toBe(200);
    await expectWorking(other);
    expect((await me(user.access)).status).toBe(200);
  });

  it('answers SimpleJWT’s 401 for an unreadable, expired or access token, and 400 without a refresh field', async () => {
    expect(await logout({ refresh: 'not-a-token' })).toMatchObject({ status: 401, body: INVALID });
    expect(await logout({ refresh: user.access })).toMatchObject({ status: 401, body: INVALID });
    const expired = await signToken(user.id, 'refresh', Math.floor(Date.now() / 1000) - 10 * 86_400);
    expect(await logout({ refresh: expired })).toMatchObject({ status: 401, body: INVALID });
    expect(await logout({})).toMatchObject({ status: 400, body: { refresh: ['This field is required.'] } });
    expect((await logout({ refresh: 42 })).status).toBe(400);
    expect(await adminQuery('SELECT jti FROM token_blacklist')).toEqual([]);
  });

  it('stores the jti with the token’s exp, and purges expired rows in the same statement', async () => {
    await adminQuery(
      `INSERT INTO token_blacklist (jti, user_id, expires_at)
       SELECT 'stale' || i, $1, now() - interval '1 hour' FROM generate_series(1, 5) AS i`,
      [user.id],
    );
    expect((await logout({ refresh: user.refresh })).status).toBe(200);
    const rows = await adminQuery<{ jti: string; user_id: string; expires_at: Date }>('SELECT * FROM token_blacklist');
    expect(rows).toHaveLength(1);
    const claims = JSON.parse(Buffer.from(user.refresh.split('.')[1]!, 'base64url').toString());
    expect(rows[0]).toEqual({ jti: claims.jti, user_id: String(user.id), expires_at: new Date(claims.exp * 1000) });
  });

  it('logs out a deactivated account’s session too (the account is not checked, as in SimpleJWT)', async () => {
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    expect((await logout({ refresh: user.refresh })).status).toBe(200);
  });

  it('refuses a refresh token revoked by "log out everywhere" as blacklisted', async () => {
    expect((await revoke(user.access)).status).toBe(204);
    expect(await logout({ refresh: user.refresh })).toMatchObject({ status: 401, body: BLACKLISTED });
  });

  it('uses one connection (one statement), as refresh does', async () => {
    const stats = newStats();
    await blacklistRefreshToken(user.refresh, { stats });
    expect(stats.connectAttempts).toBe(1);
    const other = (await login(user.username)).body as Session;
    const refreshStats = newStats();
    await refreshTokens(other.refresh, { stats: refreshStats });
    expect(refreshStats.connectAttempts).toBe(1);
  });
});

describe('POST /api/token/revoke/ (log out everywhere)', () => {
  it('answers 204; every token issued before stops working: refresh at once, access on its next use', async () => {
    const other = (await login(user.username)).body as Session;
    await expectWorking(other);
    const res = await revoke(user.access);
    expect(res.status).toBe(204);
    expect(res.raw).toBeUndefined();
    await expectRevoked(user);
    await expectRevoked(other);
    await expectNoAppConnections();
  });

  it('refuses a token issued just before the revocation, in the same second or not', async () => {
    const sameSecond = { access: await signToken(user.id, 'access'), refresh: await signToken(user.id, 'refresh') };
    expect((await revoke(user.access)).status).toBe(204);
    await expectRevoked(sameSecond);
  });

  it('lets a login right after the answer in, with no wait: its tokens work, read and write', async () => {
    expect((await revoke(user.access)).status).toBe(204);
    const fresh = await login(user.username);
    expect(fresh.status).toBe(200);
    expect((await me(fresh.body.access)).status).toBe(200);
    expect((await invoke(createTx, { method: 'POST', path: '/api/transactions/', body: tx, token: fresh.body.access })).status).toBe(201);
    expect((await refresh(fresh.body.refresh)).status).toBe(200);
    // ... and can log out everywhere again.
    expect((await revoke(fresh.body.access)).status).toBe(204);
    await expectRevoked(fresh.body);
  });

  it('answers 401 to a revoked token, without credentials, and for a deactivated user', async () => {
    expect((await revoke(user.access)).status).toBe(204);
    expect(await revoke(user.access)).toMatchObject({ status: 401, body: BLACKLISTED });
    expect((await invoke(revokeTokens, { method: 'POST', path: '/api/token/revoke/' })).status).toBe(401);
    const other = await signUp('inactive');
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [other.id]);
    expect(await revoke(other.access)).toMatchObject({ status: 401, body: INACTIVE });
  });

  it('touches no other user', async () => {
    const bystander = await signUp('bystander');
    expect((await revoke(user.access)).status).toBe(204);
    await expectWorking(bystander);
  });

  it('uses one connection for one UPDATE, revoking up to the instant of the request (ms)', async () => {
    const stats = newStats();
    const before = Date.now();
    await revokeDirect({ id: user.id, issuedAt: Date.now() / 1000 }, { stats });
    expect(stats.connectAttempts).toBe(1);
    const [row] = await adminQuery<{ valid_after: number }>('SELECT EXTRACT(EPOCH FROM tokens_valid_after)::float8 AS valid_after FROM users WHERE id = $1', [user.id]);
    // Whole milliseconds: the instant went through to_timestamp and back as a float.
    expect(Math.round(row!.valid_after * 1000)).toBeGreaterThanOrEqual(before);
    expect(Math.round(row!.valid_after * 1000)).toBeLessThanOrEqual(Date.now());
  });

  it('counts a token of the old backend (uuid4 jti, whole-second iat) as issued at the start of its second', async () => {
    expect((await revoke(user.access)).status).toBe(204);
    const [row] = await adminQuery<{ valid_after: number }>('SELECT EXTRACT(EPOCH FROM tokens_valid_after)::float8 AS valid_after FROM users WHERE id = $1', [user.id]);
    const djangoStyle = (iat: number) =>
      new SignJWT({ token_type: 'access', user_id: user.id, jti: randomUUID().replaceAll('-', ''), iat, exp: iat + 300 })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .sign(new TextEncoder().encode(process.env.JWT_SECRET));
    const sameSecond = Math.floor(row!.valid_after);
    expect(await me(await djangoStyle(sameSecond))).toMatchObject({ status: 401, body: BLACKLISTED });
    expect((await me(await djangoStyle(sameSecond + 1))).status).toBe(200);
  });
});

describe('POST /api/password/change/', () => {
  const NEW_PASSWORD = 'a-brand-new-secret';

  it('answers 204; the old password no longer logs in, the new one does; every session ends, the caller’s too', async () => {
    const other = (await login(user.username)).body as Session;
    const res = await changePasswordRequest(user.access, { old_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(204);
    expect(res.raw).toBeUndefined();
    expect((await login(user.username)).status).toBe(401);
    const fresh = await login(user.username, NEW_PASSWORD);
    expect(fresh.status).toBe(200);
    await expectWorking(fresh.body);
    await expectRevoked(other);
    await expectRevoked(user);
    await expectNoAppConnections();
  });

  it('answers 400 with Django’s message for a wrong old password, and changes nothing', async () => {
    const res = await changePasswordRequest(user.access, { old_password: 'not-my-password', new_password: NEW_PASSWORD });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ old_password: ['Your old password was entered incorrectly. Please enter it again.'] });
    expect((await login(user.username)).status).toBe(200);
    await expectWorking(user);
  });

  it.each([
    ['short', { new_password: 'short' }, { new_password: ['This password is too short. It must contain at least 8 characters.'] }],
    ['entirely numeric', { new_password: '1234567890' }, { new_password: ['This password is entirely numeric.'] }],
    ['missing', {}, { new_password: ['This field is required.'] }],
    ['not a string', { new_password: 12345678 }, { new_password: ['Not a valid string.'] }],
  ])('answers 400 with registration’s (Django’s) message for a %s new password, and changes nothing', async (_name, body, errors) => {
    const res = await changePasswordRequest(user.access, { old_password: PASSWORD, ...body });
    expect(res.status).toBe(400);
    expect(res.body).toEqual(errors);
    await expectWorking(user);
  });

  it('answers 400 for a missing old password or a body that is not an object', async () => {
    expect(await changePasswordRequest(user.access, { new_password: NEW_PASSWORD })).toMatchObject({ status: 400, body: { old_password: ['This field is required.'] } });
    expect((await changePasswordRequest(user.access, [1, 2])).status).toBe(400);
    expect((await changePasswordRequest(user.access, 'x')).status).toBe(400);
  });

  it('answers 401 for a deactivated user, a revoked token and no credentials', async () => {
    const body = { old_password: PASSWORD, new_password: NEW_PASSWORD };
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    expect(await changePasswordRequest(user.access, body)).toMatchObject({ status: 401, body: INACTIVE });
    await adminQuery('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
    expect((await revoke(user.access)).status).toBe(204);
    expect(await changePasswordRequest(user.access, body)).toMatchObject({ status: 401, body: BLACKLISTED });
    expect((await invoke(changePasswordHandler, { method: 'POST', path: '/api/password/change/', body })).status).toBe(401);
    expect((await login(user.username)).status).toBe(200);
    // Refused before any guess: none is counted.
    expect(await adminQuery('SELECT * FROM login_limits WHERE key = $1', [`pwchange:${user.id}`])).toEqual([]);
  });

  it('answers 409 and writes nothing when the stored hash changed between the check and the write', async () => {
    const [before] = await adminQuery<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    // As a login re-hashing an imported Django hash would: same password, another hash.
    const rehashed = `${before!.password_hash}x`;
    between.hook = async () => {
      await adminQuery('UPDATE users SET password_hash = $2 WHERE id = $1', [user.id, rehashed]);
    };
    const res = await changePasswordRequest(user.access, { old_password: PASSWORD, new_password: NEW_PASSWORD });
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ detail: 'The password was changed by another request meanwhile. Please try again.' });
    const [after] = await adminQuery<{ password_hash: string; tokens_valid_after: Date | null }>(
      'SELECT password_hash, tokens_valid_after FROM users WHERE id = $1',
      [user.id],
    );
    expect(after).toEqual({ password_hash: rehashed, tokens_valid_after: null });
  });

  it('holds no connection while checking and hashing: one short one to read, one to write', async () => {
    let hashed = false;
    between.hook = async () => {
      await expectNoAppConnections();
      hashed = true;
    };
    const stats = newStats();
    const started = performance.now();
    await changePassword({ id: user.id, issuedAt: Date.now() / 1000 }, { old_password: PASSWORD, new_password: NEW_PASSWORD }, { stats });
    expect(hashed).toBe(true);
    expect(stats.connectAttempts).toBe(2);
    expect(stats.heldMs).toBeLessThan(performance.now() - started);
  });
});

describe('POST /api/password/change/: guessing the old password with a stolen token', () => {
  // LOGIN_MAX_FAILURES (5) guesses per LOGIN_WINDOW_SECONDS (15 minutes), counted per account.
  const LIMIT = 5;
  const WINDOW = 15 * 60;
  const NEW_PASSWORD = 'a-brand-new-secret';
  const THROTTLED = { detail: expect.stringMatching(/^Request was throttled\. Expected available in \d+ seconds?\.$/), code: 'throttled' };

  const guess = (session: Session, oldPassword: string) => changePasswordRequest(session.access, { old_password: oldPassword, new_password: NEW_PASSWORD });
  async function guessWrong(n: number, session: Session = user) {
    for (let i = 0; i < n; i++) expect((await guess(session, `wrong-${i}`)).status).toBe(400);
  }
  const counter = async (id = user.id) => (await adminQuery('SELECT * FROM login_limits WHERE key = $1', [`pwchange:${id}`]))[0];
  /** Moves the limits' clock: every window in login_limits started `seconds` earlier. */
  const advance = (seconds: number) =>
    adminQuery('UPDATE login_limits SET window_started = window_started - make_interval(secs => $1), last_attempt = last_attempt - make_interval(secs => $1)', [seconds]);

  it('answers 429 with Retry-After after 5 wrong old passwords, to the right one too, with no password checked', async () => {
    await guessWrong(LIMIT);
    const res = await guess(user, 'wrong-again');
    expect(res.status).toBe(429);
    expect(res.body).toEqual(THROTTLED);
    expect(Number(res.headers['Retry-After'])).toBeGreaterThan(WINDOW - 30);
    expect(Number(res.headers['Retry-After'])).toBeLessThanOrEqual(WINDOW);
    let checks = 0;
    between.checking = async () => {
      checks++;
    };
    expect(await guess(user, PASSWORD)).toMatchObject({ status: 429, body: THROTTLED });
    expect(checks).toBe(0);
    // Nothing changed: the password still logs in and the session still works.
    between.checking = undefined;
    expect((await login(user.username)).status).toBe(200);
    await expectWorking(user);
    await expectNoAppConnections();
  });

  it('counts refused guesses nowhere: the counter stays as the limit left it, even under a burst', async () => {
    await guessWrong(LIMIT);
    const before = await counter();
    expect(before).toMatchObject({ attempts: LIMIT });
    for (let i = 0; i < 6; i++) expect((await guess(user, i % 2 ? PASSWORD : `again-${i}`)).status).toBe(429);
    const burst = await Promise.all(Array.from({ length: 4 }, () => guess(user, 'burst')));
    expect(burst.map((r) => r.status)).toEqual(Array(4).fill(429));
    expect(await counter()).toEqual(before);
    await expectNoAppConnections();
  });

  it('checks at most 5 guesses of a parallel burst', async () => {
    const statuses = (await Promise.all(Array.from({ length: 8 }, (_, i) => guess(user, `parallel-${i}`)))).map((r) => r.status);
    expect(statuses.filter((s) => s === 400).length).toBeLessThanOrEqual(LIMIT);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThanOrEqual(8 - LIMIT);
    expect(statuses.every((s) => s === 400 || s === 429)).toBe(true);
    expect((await counter())?.attempts).toBeLessThanOrEqual(LIMIT);
    await expectNoAppConnections();
  });

  it('lets the right old password in again once the window has passed', async () => {
    await guessWrong(LIMIT);
    expect((await guess(user, PASSWORD)).status).toBe(429);
    await advance(WINDOW - 60);
    expect((await guess(user, PASSWORD)).status).toBe(429);
    await advance(61);
    expect((await guess(user, PASSWORD)).status).toBe(204);
    expect((await login(user.username, NEW_PASSWORD)).status).toBe(200);
  });

  it('clears the counter on a successful change', async () => {
    await guessWrong(LIMIT - 1);
    expect((await guess(user, PASSWORD)).status).toBe(204);
    expect(await counter()).toMatchObject({ attempts: 0 });
    const fresh = (await login(user.username, NEW_PASSWORD)).body as Session;
    await guessWrong(LIMIT, fresh);
    expect((await guess(fresh, 'one-too-many')).status).toBe(429);
  });

  it('counts each account on its own: another user’s guesses and change are not affected', async () => {
    const other = await signUp('bystander');
    await guessWrong(LIMIT);
    expect((await guess(user, PASSWORD)).status).toBe(429);
    expect((await guess(other, 'wrong')).status).toBe(400);
    expect((await guess(other, PASSWORD)).status).toBe(204);
    expect(await counter(other.id)).toMatchObject({ attempts: 0 });
    expect(await counter()).toMatchObject({ attempts: LIMIT });
  });

  it('still holds no connection while checking and hashing: one statement to count and read, one to write', async () => {
    await guessWrong(LIMIT - 1);
    const stats = newStats();
    await changePassword({ id: user.id, issuedAt: Date.now() / 1000 }, { old_password: PASSWORD, new_password: NEW_PASSWORD }, { stats });
    expect(stats.connectAttempts).toBe(2);
    expect(await counter()).toMatchObject({ attempts: 0 });
  });
});

describe('a login racing a password change or a deactivation', () => {
  const FAILED = { detail: 'No active account found with the given credentials' };

  it('answers 401 and issues no tokens when the password changed while it was being checked', async () => {
    between.checking = async () => {
      between.checking = undefined; // the change's own check runs on
      const change = await changePasswordRequest(user.access, { old_password: PASSWORD, new_password: 'a-brand-new-secret' });
      expect(change.status).toBe(204);
    };
    const res = await login(user.username);
    expect(between.checking).toBeUndefined();
    expect(res).toMatchObject({ status: 401, body: FAILED });
    expect(res.body).not.toHaveProperty('access');
    // The change stands: the new password logs in, the old one does not.
    expect((await login(user.username, 'a-brand-new-secret')).status).toBe(200);
    expect((await login(user.username)).status).toBe(401);
    await expectNoAppConnections();
  });

  it('answers 401 and issues no tokens when the user was deactivated while the password was being checked', async () => {
    between.checking = async () => {
      between.checking = undefined;
      await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    };
    expect(await login(user.username)).toMatchObject({ status: 401, body: FAILED });
  });

  it('keeps the racing attempt counted, as a failure', async () => {
    between.checking = async () => {
      between.checking = undefined;
      await adminQuery("UPDATE users SET password_hash = password_hash || 'x' WHERE id = $1", [user.id]);
    };
    // The test events' source address (tests/support/events.ts); signUp logged in from it.
    const pair = async () => (await adminQuery<{ attempts: number }>('SELECT attempts FROM login_limits WHERE key = $1', [`pair:127.0.0.1 ${user.username}`]))[0]?.attempts;
    expect(await pair()).toBe(0);
    expect((await login(user.username)).status).toBe(401);
    expect(await pair()).toBe(1);
  });
});

describe('with JWT_ROTATE_REFRESH_TOKENS=true (SimpleJWT’s BLACKLIST_AFTER_ROTATION)', () => {
  afterEach(() => {
    delete process.env.JWT_ROTATE_REFRESH_TOKENS;
    vi.resetModules();
  });

  async function rotatingRefresh() {
    process.env.JWT_ROTATE_REFRESH_TOKENS = 'true';
    vi.resetModules();
    const { handler } = await import('../../../functions/refresh-token.js');
    return (token: string) => invoke(handler, { method: 'POST', path: '/api/token/refresh/', body: { refresh: token } });
  }

  it('spends a refresh token on its refresh; logging out with the newest one ends the chain', async () => {
    const rotate = await rotatingRefresh();
    const first = await rotate(user.refresh);
    expect(first.status).toBe(200);
    expect(first.body.refresh).toBeDefined();
    expect(await rotate(user.refresh)).toMatchObject({ status: 401, body: BLACKLISTED });
    expect((await logout({ refresh: first.body.refresh })).status).toBe(200);
    expect(await rotate(first.body.refresh)).toMatchObject({ status: 401, body: BLACKLISTED });
  });

  it('gives new tokens to exactly one of two refreshes racing with the same token', async () => {
    const rotate = await rotatingRefresh();
    const results = await Promise.all([rotate(user.refresh), rotate(user.refresh)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
    await expectNoAppConnections();
  });
});
