import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoAppConnections, resetData } from '../support/db.js';
import { startOffline, type Offline } from '../../scripts/lib/offline.js';
import { apiClient } from '../support/http.js';

// The real HTTP API through serverless-offline, driven like a client would.

let api: Offline;

const client = apiClient(() => api.baseUrl);
const call = client.call;

describe('HTTP API through serverless-offline', () => {
  beforeAll(async () => {
    await resetData();
    api = await startOffline({
      DATABASE_URL: inject('appUrl'),
      JWT_SECRET: process.env.JWT_SECRET!,
      LOG_LEVEL: 'silent',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  it('serves health without authentication', async () => {
    const res = await call('GET', '/api/health/');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok', database: 'ok' });
  });

  it('register → token → create → list → retrieve → patch → delete, with and without trailing slashes', async () => {
    const credentials = { username: 'e2e-user', password: 'correct-horse' };
    expect((await call('POST', '/api/register/', credentials)).status).toBe(201);
    const tokens = await call('POST', '/api/token', credentials);
    expect(tokens.status).toBe(200);
    client.token = tokens.body.access;

    const created = await call('POST', '/api/transactions/', { type: 'income', amount: '150.00', category: 'salary' });
    expect(created.status).toBe(201);
    expect(created.headers.get('content-type')).toBe('application/json; charset=utf-8');
    const id = created.body.id;

    const listed = await call('GET', '/api/transactions?page_size=10');
    expect(listed.body).toMatchObject({ count: 1, next: null, previous: null });
    // A listed transaction also carries its book's running balance and its receipts' count.
    expect(listed.body.results[0]).toEqual({ ...created.body, balance_after: '150.00', attachments: 0 });

    expect((await call('GET', `/api/transactions/${id}/`)).body).toEqual(created.body);
    const patched = await call('PATCH', `/api/transactions/${id}`, { amount: 99.5 });
    expect(patched.body, JSON.stringify(patched)).toMatchObject({ amount: '99.50' });
    const deleted = await call('DELETE', `/api/transactions/${id}/`);
    expect(deleted.status).toBe(204);
    expect(deleted.text).toBe('');
    expect((await call('GET', `/api/transactions/${id}/`)).status).toBe(404);
    await expectNoAppConnections();
  });

  it('refreshes and verifies tokens over HTTP', async () => {
    const tokens = await call('POST', '/api/token/', { username: 'e2e-user', password: 'correct-horse' });
    const refreshed = await call('POST', '/api/token/refresh/', { refresh: tokens.body.refresh });
    expect(refreshed.status).toBe(200);
    expect((await call('POST', '/api/token/verify/', { token: refreshed.body.access })).body).toEqual({});
    expect((await call('GET', '/api/me/', undefined, { authorization: `Bearer ${refreshed.body.access}` })).body.username).toBe('e2e-user');
  });

  it('logs out, changes the password and logs out everywhere over HTTP', async () => {
    const login = (password: string) => call('POST', '/api/token/', { username: 'e2e-user', password });
    const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
    const first = (await login('correct-horse')).body;
    expect((await call('POST', '/api/token/blacklist/', { refresh: first.refresh })).body).toEqual({});
    expect((await call('POST', '/api/token/refresh/', { refresh: first.refresh })).status).toBe(401);
    const changed = await call('POST', '/api/password/change/', { old_password: 'correct-horse', new_password: 'new-horse-staple' }, bearer(first.access));
    expect(changed.status).toBe(204);
    expect((await call('GET', '/api/me/', undefined, bearer(first.access))).status).toBe(401);
    const second = (await login('new-horse-staple')).body;
    expect((await call('POST', '/api/token/revoke/', undefined, bearer(second.access))).status).toBe(204);
    expect((await call('GET', '/api/me/', undefined, bearer(second.access))).status).toBe(401);
    expect((await login('new-horse-staple')).status).toBe(200);
  });

  it('answers 405 for a wrong method and 404 for an unknown route, DRF-style', async () => {
    const wrong = await call('PATCH', '/api/transactions/');
    expect(wrong.status).toBe(405);
    expect(wrong.body).toEqual({ detail: 'Method "PATCH" not allowed.' });
    const unknown = await call('GET', '/api/unknown/');
    expect(unknown.status).toBe(404);
    expect(unknown.body).toEqual({ detail: 'Not found.' });
  });

  it('answers malformed JSON with 400 and an oversized body with 413', async () => {
    const malformed = await call('POST', '/api/transactions/', '{"type":');
    expect(malformed.status).toBe(400);
    expect(malformed.body.detail).toMatch(/^JSON parse error - /);
    const huge = await call('POST', '/api/transactions/', { type: 'income', amount: '1.00', description: 'x'.repeat(1024 * 1024) });
    expect(huge.status).toBe(413);
  });

  it('answers 401 without credentials, with WWW-Authenticate', async () => {
    const res = await call('GET', '/api/transactions/', undefined, { authorization: '' });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="api"');
  });

  it('leaves no connection of the application role behind', async () => {
    await Promise.all(Array.from({ length: 10 }, () => call('GET', '/api/transactions/')));
    await expectNoAppConnections();
  });
});
