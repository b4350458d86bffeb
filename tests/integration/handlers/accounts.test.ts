import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as getMe } from '../../../functions/get-me.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as refreshToken } from '../../../functions/refresh-token.js';
import { handler as register } from '../../../functions/register.js';
import { handler as verifyToken } from '../../../functions/verify-token.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

const post = (path: string, body: unknown) => ({ method: 'POST', path, body });
const secret = new TextEncoder().encode(process.env.JWT_SECRET);

describe('accounts and tokens (SimpleJWT-compatible)', () => {
  beforeAll(resetData);
  afterAll(() => expectNoAppConnections());

  it('registers a user and answers with the public fields only', async () => {
    const res = await invoke(register, post('/api/register/', { username: 'alice', password: 'correct-horse', email: 'a@example.com' }));
    expect(res.status).toBe(201);
    expect(Object.keys(res.body).sort()).toEqual(['date_joined', 'email', 'id', 'username']);
    expect(res.body).toMatchObject({ username: 'alice', email: 'a@example.com' });
    // An integer, as Django's auth_user.id (typed clients declare `int id`).
    expect(Number.isSafeInteger(res.body.id) && res.body.id > 0).toBe(true);
    const [row] = await adminQuery<{ password_hash: string }>('SELECT password_hash FROM users WHERE username = $1', ['alice']);
    expect(row?.password_hash).toMatch(/^scrypt\$/);
    await expectNoAppConnections();
  });

  it('refuses a taken username with DRF\'s message', async () => {
    await invoke(register, post('/api/register/', { username: 'bob', password: 'correct-horse' }));
    const res = await invoke(register, post('/api/register/', { username: 'bob', password: 'another-pass' }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ username: ['A user with that username already exists.'] });
  });

  it('treats usernames case-sensitively, as Django does', async () => {
    const res = await invoke(register, post('/api/register/', { username: 'BOB', password: 'correct-horse' }));
    expect(res.status).toBe(201);
  });

  it('issues access and refresh tokens with SimpleJWT claims', async () => {
    const res = await invoke(obtainToken, post('/api/token/', { username: 'alice', password: 'correct-horse' }));
    expect(res.status).toBe(200);
    const claims = JSON.parse(Buffer.from(res.body.access.split('.')[1], 'base64url').toString());
    expect(claims).toMatchObject({ token_type: 'access' });
    expect(Object.keys(claims).sort()).toEqual(['exp', 'iat', 'jti', 'token_type', 'user_id']);
    expect(typeof claims.user_id).toBe('number');
    expect(claims.exp - claims.iat).toBe(300);
  });

  it('answers a wrong password and an unknown user identically', async () => {
    const wrong = await invoke(obtainToken, post('/api/token/', { username: 'alice', password: 'wrong-password' }));
    const unknown = await invoke(obtainToken, post('/api/token/', { username: 'nobody', password: 'wrong-password' }));
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual({ detail: 'No active account found with the given credentials' });
    expect(unknown.body).toEqual(wrong.body);
  });

  it('refuses an inactive user', async () => {
    await adminQuery("UPDATE users SET is_active = false WHERE username = 'bob'");
    const res = await invoke(obtainToken, post('/api/token/', { username: 'bob', password: 'correct-horse' }));
    expect(res.status).toBe(401);
  });

  it('refreshes an access token from a refresh token, never from an access token', async () => {
    const { access, refresh } = await signUp();
    const ok = await invoke(refreshToken, post('/api/token/refresh/', { refresh }));
    expect(ok.status).toBe(200);
    expect(Object.keys(ok.body)).toEqual(['access']);
    const bad = await invoke(refreshToken, post('/api/token/refresh/', { refresh: access }));
    expect(bad.status).toBe(401);
    expect(bad.body).toEqual({ detail: 'Token is invalid or expired', code: 'token_not_valid' });
  });

  it('verifies valid tokens and refuses bad ones', async () => {
    const { access, refresh } = await signUp();
    expect((await invoke(verifyToken, post('/api/token/verify/', { token: access }))).body).toEqual({});
    expect((await invoke(verifyToken, post('/api/token/verify/', { token: refresh }))).status).toBe(200);
    const bad = await invoke(verifyToken, post('/api/token/verify/', { token: `${access}x` }));
    expect(bad.status).toBe(401);
    expect(bad.body.code).toBe('token_not_valid');
  });

  it('shows the current user at /api/me/', async () => {
    const { access, username, id } = await signUp();
    const res = await invoke(getMe, { path: '/api/me/', token: access });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id, username, email: '' });
  });

  it('asks for credentials without a token, with WWW-Authenticate', async () => {
    const res = await invoke(getMe, { path: '/api/me/' });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Authentication credentials were not provided.' });
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="api"');
  });

  it.each([
    ['expired', async (id: number) => new SignJWT({ token_type: 'access', user_id: id, jti: 'x' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(1_000).setExpirationTime(2_000).sign(secret)],
    ['signed with another key', async (id: number) => new SignJWT({ token_type: 'access', user_id: id, jti: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(new TextEncoder().encode('another-secret-another-secret-another'))],
    ['alg none', async (id: number) => {
      const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
      return `${enc({ alg: 'none', typ: 'JWT' })}.${enc({ token_type: 'access', user_id: id, exp: Math.floor(Date.now() / 1000) + 300 })}.`;
    }],
    ['HS512 with the right secret', async (id: number) => new SignJWT({ token_type: 'access', user_id: id, jti: 'x' }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('5m').sign(secret)],
    ['a refresh token', async (id: number) => new SignJWT({ token_type: 'refresh', user_id: id, jti: 'x' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('5m').sign(secret)],
    ['garbage', async () => 'not-a-jwt'],
  ])('refuses a token that is %s', async (_name, make) => {
    const { id } = await signUp();
    const res = await invoke(getMe, { path: '/api/me/', token: await make(id) });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Given token not valid for any token type', code: 'token_not_valid' });
  });

  it('answers 401 for a valid token of a deleted user', async () => {
    const { access, id } = await signUp();
    await adminQuery('DELETE FROM users WHERE id = $1', [id]);
    const res = await invoke(getMe, { path: '/api/me/', token: access });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'User not found', code: 'user_not_found' });
  });
});
