import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseCsv } from '../../lib/csv.js';
import { expectNoAppConnections, resetData } from '../support/db.js';
import { startOffline, type Offline } from '../../scripts/lib/offline.js';
import { apiClient } from '../support/http.js';

// Books, filters, summary, CSV export and Idempotency-Key through serverless-offline.

let api: Offline;

const client = apiClient(() => api.baseUrl);
const call = client.call;

describe('books, filters, summary, export and idempotency over HTTP', () => {
  beforeAll(async () => {
    await resetData();
    api = await startOffline({ DATABASE_URL: inject('appUrl'), JWT_SECRET: process.env.JWT_SECRET!, LOG_LEVEL: 'silent' });
    const credentials = { username: 'e2e-books', password: 'correct-horse' };
    expect((await call('POST', '/api/register/', credentials)).status).toBe(201);
    client.token = (await call('POST', '/api/token/', credentials)).body.access;
  });
  afterAll(async () => {
    await api?.stop();
    await expectNoAppConnections();
  });

  it('creates books and transactions in them, with and without trailing slashes', async () => {
    const books = await call('GET', '/api/books/');
    expect(books.body).toMatchObject({ count: 1, results: [{ name: 'Cashbook', is_default: true, balance: '0.00' }] });
    const trip = await call('POST', '/api/books', { name: 'Trip', currency: 'EUR' });
    expect(trip.status).toBe(201);
    const id = trip.body.id;
    expect((await call('POST', '/api/transactions/', { type: 'income', amount: '100', book: id, category: 'Refund', date: '2026-04-01' })).status).toBe(201);
    expect((await call('POST', '/api/transactions/', { type: 'expense', amount: '40', book: id, category: 'Hotel', date: '2026-04-02', description: '=HYPERLINK("x")' })).status).toBe(201);
    expect((await call('POST', '/api/transactions', { type: 'expense', amount: '5', date: '2026-04-03' })).status).toBe(201);
    expect((await call('GET', `/api/books/${id}`)).body).toMatchObject({ name: 'Trip', balance: '60.00' });
    expect((await call('PATCH', `/api/books/${id}/`, { name: 'Trip 2026' })).body.name).toBe('Trip 2026');
    expect((await call('DELETE', `/api/books/${id}/`)).status).toBe(409);
  });

  it('filters the list and carries running balances', async () => {
    const res = await call('GET', '/api/transactions/?search=hotel&ordering=-amount');
    expect(res.status).toBe(200);
    expect(res.body.results).toMatchObject([{ category: 'Hotel', amount: '40.00', balance_after: '60.00' }]);
    expect((await call('GET', '/api/transactions/?ordering=colour')).status).toBe(400);
  });

  it('routes /summary/ and /export/ to their own functions, not to /{id}', async () => {
    const summary = await call('GET', '/api/transactions/summary/?date_from=2026-04-01');
    expect(summary.status).toBe(200);
    expect(summary.body).toMatchObject({ count: 3, total_income: '100.00', total_expense: '45.00', balance: '55.00' });
    expect((await call('GET', '/api/transactions/summary')).status).toBe(200);

    const csv = await call('GET', '/api/transactions/export/?ordering=date');
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(csv.headers.get('content-disposition')).toBe('attachment; filename="transactions.csv"');
    const rows = parseCsv(csv.text);
    expect(rows).toHaveLength(4);
    expect(rows[2]![7]).toBe(`'=HYPERLINK("x")`);
    expect((await call('POST', '/api/transactions/summary/')).status).toBe(405);
    expect((await call('DELETE', '/api/books/')).status).toBe(405);
  });

  it('replays a POST with the same Idempotency-Key', async () => {
    const body = { type: 'expense', amount: '9.99', description: 'once' };
    const first = await call('POST', '/api/transactions/', body, { 'Idempotency-Key': 'e2e-key' });
    const again = await call('POST', '/api/transactions/', body, { 'Idempotency-Key': 'e2e-key' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    const changed = await call('POST', '/api/transactions/', { ...body, amount: '1.00' }, { 'Idempotency-Key': 'e2e-key' });
    expect(changed.status).toBe(422);
    expect((await call('GET', '/api/transactions/?search=once')).body.count).toBe(1);
    await expectNoAppConnections();
  });
});
