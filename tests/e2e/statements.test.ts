import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expectNoAppConnections, resetData } from '../support/db.js';
import { startOffline, type Offline } from '../../scripts/lib/offline.js';
import { apiClient } from '../support/http.js';
import { readPdf, readXlsx } from '../support/statements.js';

// Statements through serverless-offline: /api/books/{id}/statement.pdf and .xlsx are their own
// routes (not /api/books/{id}), with or without the trailing slash, and the files arrive as
// bytes (the handler's base64 body decoded on the way, as API Gateway does).

let api: Offline;
const client = apiClient(() => api.baseUrl);
const call = client.call;

async function download(path: string) {
  const res = await fetch(`${api.baseUrl}${path}`, { headers: { authorization: `Bearer ${client.token}` } });
  return { status: res.status, type: res.headers.get('content-type'), bytes: new Uint8Array(await res.arrayBuffer()) };
}

describe('statements over HTTP', () => {
  let book: string;
  beforeAll(async () => {
    await resetData();
    api = await startOffline({ DATABASE_URL: inject('appUrl'), JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'silent' });
    const credentials = { username: 'e2e-statements', password: 'correct-horse' };
    expect((await call('POST', '/api/register/', credentials)).status).toBe(201);
    client.token = (await call('POST', '/api/token/', credentials)).body.access;
    book = (await call('POST', '/api/books/', { name: 'Till', currency: 'EUR' })).body.id;
    expect((await call('POST', '/api/transactions/', { type: 'income', amount: '250.00', book, category: 'Sales', date: '2026-05-02' })).status).toBe(201);
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  it('downloads the PDF, with and without the trailing slash', async () => {
    for (const path of [`/api/books/${book}/statement.pdf?date_after=2026-05-01`, `/api/books/${book}/statement.pdf/?date_after=2026-05-01`]) {
      const res = await download(path);
      expect([res.status, res.type], path).toEqual([200, 'application/pdf']);
      const pdf = await readPdf(res.bytes);
      expect(pdf.title).toBe('Till');
      expect(pdf.texts.map((t) => t.text)).toContain('250.00');
    }
  });

  it('downloads the workbook', async () => {
    const res = await download(`/api/books/${book}/statement.xlsx`);
    expect([res.status, res.type]).toEqual([200, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet']);
    expect(readXlsx(res.bytes).sheets.map((s) => s.name)).toEqual(['Statement', 'By category']);
  });

  it('leaves /api/books/{id} to the book, and answers 405 and 404 around the new paths', async () => {
    expect((await call('GET', `/api/books/${book}/`)).body).toMatchObject({ name: 'Till', balance: '250.00' });
    expect((await call('POST', `/api/books/${book}/statement.pdf`)).status).toBe(405);
    expect((await call('GET', `/api/books/${book}/statement.csv`)).status).toBe(404);
    expect((await call('GET', `/api/books/${book}/statement.xlsx?date_after=2026-13-01`)).body).toEqual({ date_after: ['Enter a valid date.'] });
  });
});
