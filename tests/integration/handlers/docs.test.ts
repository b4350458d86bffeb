import { afterAll, describe, expect, it } from 'vitest';
import { handler as getDocsAsset } from '../../../functions/get-docs-asset.js';
import { handler as getDocs } from '../../../functions/get-docs.js';
import { handler as getOpenApi } from '../../../functions/get-open-api.js';
import { expectNoAppConnections } from '../../support/db.js';
import { apiEvent, invoke, lambdaContext } from '../../support/events.js';

/** Raw replies (HTML, JS, CSS): invoke() would parse them as JSON. */
const call = async (handler: unknown, path: string, pathParameters?: Record<string, string>) => {
  const res = await (handler as any)(apiEvent({ path, pathParameters }), lambdaContext());
  return { status: res.statusCode as number, headers: res.headers as Record<string, string>, body: res.body as string };
};

describe('OpenAPI document and docs page', () => {
  afterAll(() => expectNoAppConnections());

  it('serves the document at /api/openapi.json without authentication', async () => {
    const res = await invoke(getOpenApi, { path: '/api/openapi.json' });
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toMatch(/^application\/json/);
    expect(res.body.openapi).toBe('3.1.0');
    expect(Object.keys(res.body.paths)).toContain('/api/transactions/{id}');
  });

  it.each(['/api/docs', '/api/docs/'])('serves the docs page at %s with assets and document URLs that resolve', async (path) => {
    const res = await call(getDocs, path);
    expect(res.status).toBe(200);
    expect(res.headers['Content-Type']).toBe('text/html; charset=utf-8');
    expect(res.body).toContain('<script src="/api/docs/swagger-ui-bundle.js"></script>');
    expect(res.body).toContain('data-spec="/api/openapi.json"');
    const csp = res.headers['Content-Security-Policy']!;
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toMatch(/sandbox|trusted-types|https?:\/\//);
    expect(res.headers['X-Frame-Options']).toBe('DENY');
  });

  it('escapes the path it echoes into the page', async () => {
    const res = await call(getDocs, '/api/docs/"><script>alert(1)</script>');
    expect(res.body).not.toContain('<script>alert(1)');
  });

  it('serves Swagger UI\'s files from the bundle, and nothing else', async () => {
    const js = await call(getDocsAsset, '/api/docs/swagger-ui-bundle.js', { file: 'swagger-ui-bundle.js' });
    expect(js.status).toBe(200);
    expect(js.headers['Content-Type']).toMatch(/^text\/javascript/);
    expect(js.body.length).toBeGreaterThan(500_000);
    const css = await call(getDocsAsset, '/api/docs/swagger-ui.css', { file: 'swagger-ui.css' });
    expect(css.headers['Content-Type']).toMatch(/^text\/css/);
    for (const file of ['../package.json', 'index.html', 'constructor', '__proto__', '']) {
      const res = await call(getDocsAsset, `/api/docs/${file}`, { file });
      expect(res.status).toBe(404);
    }
  });
});
