import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CHROMIUM, describeWith } from '../support/components.js';
import { expectNoAppConnections } from '../support/db.js';
import { startOffline, type Offline } from '../../scripts/lib/offline.js';

// The docs page in a real browser (Debian's chromium, driven by playwright-core), CORS preflight
// and security headers, all through serverless-offline.

let api: Offline;

describe('docs, CORS and headers through serverless-offline', () => {
  beforeAll(async () => {
    api = await startOffline({
      DATABASE_URL: inject('appUrl'),
      JWT_SECRET: process.env.JWT_SECRET!,
      LOG_LEVEL: 'silent',
      CORS_ORIGINS: 'https://app.example.com',
    });
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  // serverless-offline forces 200 on any OPTIONS that carries an Origin (API Gateway passes our 204
  // through); the Access-Control-* values are the function's, as in AWS.
  it('answers a CORS preflight with 2xx and the allowed origin', async () => {
    const res = await fetch(`${api.baseUrl}/api/transactions/`, {
      method: 'OPTIONS',
      headers: { origin: 'https://app.example.com', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    expect([200, 204]).toContain(res.status);
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-allow-methods')).toContain('PATCH');
    expect(res.headers.get('access-control-allow-headers')).toContain('Authorization');
  });

  it('sends security headers over HTTP', async () => {
    const res = await fetch(`${api.baseUrl}/api/health/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('strict-transport-security')).toMatch(/^max-age=/);
  });

  it('serves the OpenAPI document', async () => {
    const res = await fetch(`${api.baseUrl}/api/openapi.json`);
    expect(res.status).toBe(200);
    expect(((await res.json()) as { openapi: string }).openapi).toBe('3.1.0');
  });

  describeWith(['chromium'], 'the docs page in headless Chromium', () => {
    it('shows every endpoint', async () => {
      const profile = mkdtempSync(join(tmpdir(), 'cashbook-chromium-'));
      // A fresh profile; the flags keep Chromium off the (closed) network.
      const browser = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
          '--disable-background-networking', '--disable-component-update', '--disable-sync',
        ],
      });
      try {
        const page = await browser.newPage();
        const problems: string[] = [];
        page.on('console', (m) => m.type() === 'error' && problems.push(m.text()));
        page.on('pageerror', (e) => problems.push(e.message));
        page.on('requestfailed', (r) => problems.push(`${r.url()} ${r.failure()?.errorText}`));
        page.on('response', (r) => r.status() >= 400 && problems.push(`${r.status()} ${r.url()}`));
        const res = await page.goto(`${api.baseUrl}/api/docs/`);
        expect(res?.status()).toBe(200);
        await page.waitForSelector('.opblock', { timeout: 20_000 });
        const listed = await page.$$eval('.opblock-summary', (els) =>
          els.map((el) => `${el.querySelector('.opblock-summary-method')?.textContent} ${el.querySelector('.opblock-summary-path')?.getAttribute('data-path')}`),
        );
        for (const route of ['POST /api/token', 'GET /api/transactions', 'PATCH /api/transactions/{id}', 'DELETE /api/transactions/{id}', 'GET /api/health']) {
          expect(listed).toContain(route);
        }
        expect(await page.title()).toContain('Cashbook API');
        expect(problems).toEqual([]);
      } finally {
        await browser.close();
        rmSync(profile, { recursive: true, force: true });
      }
    }, 90_000);
  });
});
