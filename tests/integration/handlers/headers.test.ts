import { afterAll, describe, expect, it } from 'vitest';
import { handler as health } from '../../../functions/get-health.js';
import { handler as methodNotAllowed } from '../../../functions/method-not-allowed.js';
import { handler as notFound } from '../../../functions/not-found.js';
import { expectNoAppConnections } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Tests run with CORS_ORIGINS=https://app.example.com,https://*.cashbook.test (tests/support/env.ts).

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  path: '/api/transactions/',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
});

describe('security headers and CORS', () => {
  afterAll(() => expectNoAppConnections());

  it('sends security headers on every response, errors included', async () => {
    for (const res of [await invoke(health, { path: '/api/health/' }), await invoke(notFound, { path: '/nope' })]) {
      expect(res.headers['X-Content-Type-Options']).toBe('nosniff');
      expect(res.headers['Strict-Transport-Security']).toMatch(/^max-age=\d+/);
      expect(res.headers['Referrer-Policy']).toBe('no-referrer');
      expect(res.headers['X-Powered-By']).toBeUndefined();
    }
  });

  it('answers a preflight from an allowed origin with 204 and the CORS headers', async () => {
    const res = await invoke(methodNotAllowed, preflight('https://app.example.com'));
    expect(res.status).toBe(204);
    expect(res.raw).toBeUndefined();
    expect(res.headers).toMatchObject({
      'Access-Control-Allow-Origin': 'https://app.example.com',
      'Access-Control-Allow-Methods': expect.stringContaining('PATCH'),
      'Access-Control-Allow-Headers': expect.stringMatching(/Authorization/),
      'Access-Control-Max-Age': '600',
    });
    expect(res.headers.Vary).toMatch(/Origin/);
  });

  it('matches wildcard subdomains from CORS_ORIGINS', async () => {
    const res = await invoke(methodNotAllowed, preflight('https://web.cashbook.test'));
    expect(res.headers['Access-Control-Allow-Origin']).toBe('https://web.cashbook.test');
  });

  it('gives no Access-Control-Allow-Origin to another origin', async () => {
    const res = await invoke(methodNotAllowed, preflight('https://evil.example.net'));
    expect(res.status).toBe(204);
    expect(res.headers['Access-Control-Allow-Origin']).toBeUndefined();
  });

  it('adds CORS headers to actual responses, errors included', async () => {
    const ok = await invoke(health, { path: '/api/health/', headers: { origin: 'https://app.example.com' } });
    expect(ok.headers['Access-Control-Allow-Origin']).toBe('https://app.example.com');
    expect(ok.headers['Access-Control-Expose-Headers']).toMatch(/Retry-After/);
    const denied = await invoke(methodNotAllowed, { method: 'PATCH', path: '/api/health/', headers: { origin: 'https://app.example.com' } });
    expect(denied.status).toBe(405);
    expect(denied.headers['Access-Control-Allow-Origin']).toBe('https://app.example.com');
  });
});
