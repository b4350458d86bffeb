import { afterAll, beforeAll, expect, it } from 'vitest';
import { handler as blacklistToken } from '../../functions/blacklist-token.js';
import { handler as getMe } from '../../functions/get-me.js';
import { handler as refreshToken } from '../../functions/refresh-token.js';
import { handler as revokeTokens } from '../../functions/revoke-tokens.js';
import { handler as verifyToken } from '../../functions/verify-token.js';
import { handler as listTransactions } from '../../functions/list-transactions.js';
import { issueTokenPair } from '../../lib/auth/tokens.js';
import { describeWith } from '../support/components.js';
import { adminQuery, expectNoAppConnections, resetData } from '../support/db.js';
import { django } from '../support/django.js';
import { invoke } from '../support/events.js';

// Tokens cross the cutover both ways: the real SimpleJWT 5.2 (Debian's package, driven through
// tests/support/django/cli.py with the same signing key) mints tokens this backend accepts, and
// verifies the tokens this backend mints. Nobody is logged out when clients switch, or switch back.

const USER_ID = 42;

describeWith(['django'], 'tokens shared with the old Django backend (SimpleJWT 5.2)', () => {
  beforeAll(async () => {
    await resetData();
    await adminQuery(
      `WITH u AS (INSERT INTO users (id, username, password_hash) VALUES ($1, 'carried', 'x') RETURNING id)
       INSERT INTO books (user_id, name, currency, is_default) SELECT id, 'Cashbook', 'INR', true FROM u`,
      [USER_ID],
    );
  });
  afterAll(() => expectNoAppConnections());

  it('accepts an access token issued by the old backend, and answers with the integer id', async () => {
    const { access } = JSON.parse(await django(['mint', String(USER_ID)]));
    const claims = JSON.parse(Buffer.from(access.split('.')[1], 'base64url').toString());
    expect(claims.user_id).toBe(USER_ID);
    const me = await invoke(getMe, { path: '/api/me/', token: access });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ id: USER_ID, username: 'carried' });
    expect((await invoke(listTransactions, { path: '/api/transactions/', token: access })).status).toBe(200);
  });

  it('refreshes and verifies a refresh token issued by the old backend', async () => {
    const { refresh } = JSON.parse(await django(['mint', String(USER_ID)]));
    const res = await invoke(refreshToken, { method: 'POST', path: '/api/token/refresh/', body: { refresh } });
    expect(res.status).toBe(200);
    expect((await invoke(getMe, { path: '/api/me/', token: res.body.access })).body.id).toBe(USER_ID);
    expect((await invoke(verifyToken, { method: 'POST', path: '/api/token/verify/', body: { token: refresh } })).status).toBe(200);
  });

  it('issues tokens the old backend accepts: access and refresh, user_id a number', async () => {
    const { access, refresh } = await issueTokenPair(USER_ID);
    const accessClaims = JSON.parse(await django(['verify', 'access', access]));
    expect(accessClaims).toMatchObject({ token_type: 'access', user_id: USER_ID });
    expect(JSON.parse(await django(['verify', 'refresh', refresh]))).toMatchObject({ token_type: 'refresh', user_id: USER_ID });
    const refreshed = JSON.parse(await django(['refresh', refresh]));
    expect(JSON.parse(await django(['verify', 'access', refreshed.access]))).toMatchObject({ user_id: USER_ID });
  });

  it('keeps the token types apart on both sides', async () => {
    const { access } = await issueTokenPair(USER_ID);
    await expect(django(['verify', 'refresh', access])).rejects.toThrow();
    const old = JSON.parse(await django(['mint', String(USER_ID)]));
    expect((await invoke(getMe, { path: '/api/me/', token: old.refresh })).status).toBe(401);
  });

  it('refuses an old token for a user the import did not bring over', async () => {
    const { access } = JSON.parse(await django(['mint', '9999']));
    expect((await invoke(getMe, { path: '/api/me/', token: access })).status).toBe(401);
  });

  it('logs out (blacklists by its jti) a refresh token the old backend issued, and revokes its access tokens', async () => {
    const { access, refresh } = JSON.parse(await django(['mint', String(USER_ID)]));
    const refreshOld = () => invoke(refreshToken, { method: 'POST', path: '/api/token/refresh/', body: { refresh } });
    expect((await invoke(blacklistToken, { method: 'POST', path: '/api/token/blacklist/', body: { refresh } })).status).toBe(200);
    expect(await refreshOld()).toMatchObject({ status: 401, body: { detail: 'Token is blacklisted', code: 'token_not_valid' } });
    expect((await invoke(revokeTokens, { method: 'POST', path: '/api/token/revoke/', token: access })).status).toBe(204);
    expect(await invoke(getMe, { path: '/api/me/', token: access })).toMatchObject({ status: 401, body: { detail: 'Token is blacklisted', code: 'token_not_valid' } });
  });
});
