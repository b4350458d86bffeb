import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as exportTx } from '../../../functions/export-transactions.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { parseCsv } from '../../../lib/csv.js';
import { EXPORT_MAX_ROWS } from '../../../lib/transactions/export.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Filters, ordering, running balance, summary and CSV export of GET /api/transactions/.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let mallory: User;
let mainBook = '';
let travelBook = '';

/** The summary's transfer sums of a user who never transferred (issue 20). */
const NO_TRANSFERS = { transfers_in: '0.00', transfers_out: '0.00' };

async function newTx(token: string, body: object) {
  const res = await invoke(createTx, { method: 'POST', path: '/api/transactions/', token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const get = (handler: unknown, query: Record<string, string> = {}, token = alice.access, path = '/api/transactions/') =>
  invoke(handler, { path, token, query });

const ids = (res: { body: { results: Array<{ description: string }> } }) => res.body.results.map((t) => t.description);

describe('transaction list filters, running balance, summary and export', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
    const travel = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: 'Travel', currency: 'EUR' } });
    travelBook = travel.body.id;
    // Main book, in ledger order: +1000, -200, -50.50, +10 (running 1000, 800, 749.50, 759.50).
    mainBook = (await newTx(alice.access, { type: 'income', amount: '1000', date: '2026-01-01', category: 'Salary', description: 'jan salary', payment_mode: 'bank' })).book;
    await newTx(alice.access, { type: 'expense', amount: '200', date: '2026-01-05', category: 'Rent', description: 'rent 100% paid', payment_mode: 'upi' });
    await newTx(alice.access, { type: 'expense', amount: '50.50', date: '2026-02-10', category: 'Food', description: 'Lunch with Bob', payment_mode: 'card' });
    await newTx(alice.access, { type: 'income', amount: '10', date: '2026-02-11', category: 'food', description: 'refund_lunch', payment_mode: 'cash' });
    // Travel book: -30 then +5.
    await newTx(alice.access, { type: 'expense', amount: '30', date: '2026-01-03', category: 'Taxi', description: 'taxi', book: travelBook });
    await newTx(alice.access, { type: 'income', amount: '5', date: '2026-02-01', category: 'Taxi', description: 'taxi refund', book: travelBook });
    await newTx(mallory.access, { type: 'income', amount: '999', date: '2026-01-02', description: 'not alice' });
  });
  afterAll(() => expectNoAppConnections());

  describe('list', () => {
    it('orders newest first by default and gives every row its book and running balance', async () => {
      const res = await get(list);
      expect(res.status).toBe(200);
      expect(res.body.count).toBe(6);
      expect(res.body.results.map((t: { description: string; balance_after: string }) => [t.description, t.balance_after])).toEqual([
        ['refund_lunch', '759.50'],
        ['Lunch with Bob', '749.50'],
        ['taxi refund', '-25.00'],
        ['rent 100% paid', '800.00'],
        ['taxi', '-30.00'],
        ['jan salary', '1000.00'],
      ]);
      expect(res.body.results[0]).toEqual({
        id: expect.any(String),
        book: mainBook,
        type: 'income',
        amount: '10.00',
        category: 'food',
        description: 'refund_lunch',
        date: '2026-02-11',
        payment_mode: 'cash',
        created_at: expect.any(String),
        updated_at: expect.any(String),
        transfer: null,
        created_by: { id: alice.id, username: alice.username },
        updated_by: { id: alice.id, username: alice.username },
        balance_after: '759.50',
        attachments: 0,
      });
    });

    it("keeps the book's running balance across pages and filters (the balance is of the whole book)", async () => {
      const page2 = await get(list, { page_size: '2', page: '2' });
      expect(page2.body.results.map((t: { balance_after: string }) => t.balance_after)).toEqual(['-25.00', '800.00']);
      const food = await get(list, { type: 'expense', book: mainBook });
      expect(food.body.results.map((t: { balance_after: string }) => t.balance_after)).toEqual(['749.50', '800.00']);
    });

    it.each([
      [{ book: 'travel' }, ['taxi refund', 'taxi']],
      [{ type: 'income' }, ['refund_lunch', 'taxi refund', 'jan salary']],
      [{ category: 'Food' }, ['Lunch with Bob']],
      [{ payment_mode: 'upi' }, ['rent 100% paid']],
      [{ date_from: '2026-01-05', date_to: '2026-02-10' }, ['Lunch with Bob', 'taxi refund', 'rent 100% paid']],
      [{ min_amount: '10', max_amount: '50.50' }, ['refund_lunch', 'Lunch with Bob', 'taxi']],
      [{ min_amount: '0', max_amount: '5' }, ['taxi refund']],
      [{ search: 'LUNCH' }, ['refund_lunch', 'Lunch with Bob']],
      [{ search: 'food' }, ['refund_lunch', 'Lunch with Bob']],
      [{ search: '100%' }, ['rent 100% paid']],
      [{ search: '_' }, ['refund_lunch']],
      [{ search: 'Bob', type: 'expense', book: 'main' }, ['Lunch with Bob']],
      [{ ordering: 'amount' }, ['taxi refund', 'refund_lunch', 'taxi', 'Lunch with Bob', 'rent 100% paid', 'jan salary']],
      [{ ordering: '-amount', type: 'income' }, ['jan salary', 'refund_lunch', 'taxi refund']],
      [{ ordering: 'date' }, ['jan salary', 'taxi', 'rent 100% paid', 'taxi refund', 'Lunch with Bob', 'refund_lunch']],
      [{ ordering: 'created_at' }, ['jan salary', 'rent 100% paid', 'Lunch with Bob', 'refund_lunch', 'taxi', 'taxi refund']],
      [{ search: 'no such thing' }, []],
      [{ date_from: '2030-01-01' }, []],
    ])('filters %j', async (query, expected) => {
      const resolved = Object.fromEntries(
        Object.entries(query).map(([k, v]) => [k, v === 'travel' ? travelBook : v === 'main' ? mainBook : v]),
      );
      const res = await get(list, resolved as Record<string, string>);
      expect(res.status).toBe(200);
      expect(ids(res)).toEqual(expected);
      expect(res.body.count).toBe(expected.length);
    });

    it('answers an empty page 1 for a filter that matches nothing, and 404 past the end', async () => {
      expect((await get(list, { category: 'nothing' })).body).toEqual({ count: 0, next: null, previous: null, results: [] });
      const past = await get(list, { page: '3', page_size: '5' });
      expect(past.status).toBe(404);
      expect(past.body).toEqual({ detail: 'Invalid page.' });
    });

    it("refuses another user's book (or a missing one) as a filter without saying which", async () => {
      const theirs = (await newTx(mallory.access, { type: 'income', amount: 1 })).book;
      for (const book of [theirs, '00000000-0000-4000-8000-000000000000']) {
        for (const handler of [list, summary, exportTx]) {
          const res = await get(handler, { book });
          expect(res.status).toBe(400);
          expect(res.body).toEqual({ book: ['Select a valid choice. That choice is not one of the available choices.'] });
        }
      }
    });

    it('answers unknown filter values with a 400 naming the parameter', async () => {
      expect((await get(list, { ordering: 'name' })).body).toEqual({
        ordering: ['Invalid ordering "name". Use date, amount, created_at, each optionally prefixed with "-".'],
      });
      expect((await get(list, { type: 'gift', date_from: 'x' })).body).toEqual({
        type: ['Select a valid choice. gift is not one of the available choices.'],
        date_from: ['Enter a valid date.'],
      });
      expect((await get(summary, { min_amount: 'lots' })).status).toBe(400);
      expect((await get(exportTx, { page_size: '1000' })).status).toBe(200);
    });
  });

  describe('summary', () => {
    it('totals, per category and per month, with amounts as decimal strings', async () => {
      const res = await get(summary, { book: mainBook }, alice.access, '/api/transactions/summary/');
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        count: 4,
        total_income: '1010.00',
        total_expense: '250.50',
        balance: '759.50',
        // Without transfers, the transfers' sums are zero and everything else is as before them.
        by_category: [
          { category: 'Food', income: '0.00', expense: '50.50', ...NO_TRANSFERS },
          { category: 'Rent', income: '0.00', expense: '200.00', ...NO_TRANSFERS },
          { category: 'Salary', income: '1000.00', expense: '0.00', ...NO_TRANSFERS },
          { category: 'food', income: '10.00', expense: '0.00', ...NO_TRANSFERS },
        ],
        by_month: [
          { month: '2026-01', income: '1000.00', expense: '200.00', balance: '800.00', ...NO_TRANSFERS },
          { month: '2026-02', income: '10.00', expense: '50.50', balance: '-40.50', ...NO_TRANSFERS },
        ],
        ...NO_TRANSFERS,
      });
    });

    it('answers zeros and empty lists for an empty book or a filter that matches nothing', async () => {
      const empty = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: 'Empty' } });
      const queries: Array<Record<string, string>> = [{ book: empty.body.id }, { search: 'zzz' }];
      for (const query of queries) {
        expect((await get(summary, query)).body).toEqual({
          count: 0,
          total_income: '0.00',
          total_expense: '0.00',
          balance: '0.00',
          by_category: [],
          by_month: [],
          ...NO_TRANSFERS,
        });
      }
    });

    it('sums past NUMERIC(14,2) without overflowing', async () => {
      const whale = await signUp('whale');
      await newTx(whale.access, { type: 'income', amount: '1.00' });
      // 150 × 9,999,999,999.99 = 1,499,999,999,998.50: 13 digits before the point.
      await adminQuery(
        `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
         SELECT user_id, book_id, 'income', 9999999999.99, 'big', '2026-03-01' FROM transactions t, generate_series(1, 150)
         WHERE t.user_id = $1`,
        [whale.id],
      );
      const res = await get(summary, {}, whale.access);
      expect(res.body).toMatchObject({ count: 151, total_income: '1499999999999.50', balance: '1499999999999.50' });
      expect(res.body.by_category).toContainEqual({ category: 'big', income: '1499999999998.50', expense: '0.00', ...NO_TRANSFERS });
      const listed = await get(list, { page_size: '1' }, whale.access);
      expect(listed.body.results[0].balance_after).toBe('1499999999999.50');
    });
  });

  describe('CSV export', () => {
    it('answers RFC 4180 CSV as an attachment, with the filters and ordering of the list', async () => {
      const res = await get(exportTx, { book: mainBook, ordering: 'date' }, alice.access, '/api/transactions/export/');
      expect(res.status).toBe(200);
      expect(res.headers['Content-Type']).toBe('text/csv; charset=utf-8');
      expect(res.headers['Content-Disposition']).toBe('attachment; filename="transactions.csv"');
      const rows = parseCsv(res.raw!);
      expect(rows[0]).toEqual(['id', 'date', 'book', 'type', 'amount', 'balance_after', 'category', 'description', 'payment_mode', 'created_at', 'updated_at', 'transfer', 'created_by', 'updated_by']);
      expect(rows.slice(1).map((r) => [r[1], r[2], r[4], r[5], r[7]])).toEqual([
        ['2026-01-01', 'Cashbook', '1000.00', '1000.00', 'jan salary'],
        ['2026-01-05', 'Cashbook', '200.00', '800.00', 'rent 100% paid'],
        ['2026-02-10', 'Cashbook', '50.50', '749.50', 'Lunch with Bob'],
        ['2026-02-11', 'Cashbook', '10.00', '759.50', 'refund_lunch'],
      ]);
      expect(res.raw!.endsWith('\r\n')).toBe(true);
    });

    it('quotes commas, quotes, newlines and unicode, and neutralises formula prefixes but not negative balances', async () => {
      const eve = await signUp('eve');
      const nasty = [
        ['a, b', 'He said "hi"'],
        ['multi\nline', 'crlf\r\nhere'],
        ['₹ café ✓', '日本語 🎉'],
        ['=SUM(A1:A9)', '+1'],
        ['-2', '@cmd'],
        ['\tTab', '\rCR'],
      ];
      for (const [category, description] of nasty) {
        await newTx(eve.access, { type: 'expense', amount: '1.25', category, description, date: '2026-05-01' });
      }
      const res = await get(exportTx, { ordering: 'created_at' }, eve.access);
      const rows = parseCsv(res.raw!);
      expect(rows).toHaveLength(nasty.length + 1);
      expect(rows.slice(1).map((r) => [r[6], r[7]])).toEqual([
        ['a, b', 'He said "hi"'],
        ['multi\nline', 'crlf\r\nhere'],
        ['₹ café ✓', '日本語 🎉'],
        ["'=SUM(A1:A9)", "'+1"],
        ["'-2", "'@cmd"],
        ["'\tTab", "'\rCR"],
      ]);
      expect(res.raw).toContain('"He said ""hi"""');
      expect(rows.slice(1).map((r) => [r[4], r[5]])).toEqual(nasty.map((_, i) => ['1.25', (-1.25 * (i + 1)).toFixed(2)]));
    });

    it(`refuses more than ${EXPORT_MAX_ROWS} rows with a 400 that says to narrow the filters`, async () => {
      const bulk = await signUp('bulk');
      await newTx(bulk.access, { type: 'income', amount: '1.00', date: '2026-01-01' });
      await adminQuery(
        `INSERT INTO transactions (user_id, book_id, type, amount, date)
         SELECT user_id, book_id, 'expense', 0.01, '2026-06-01' FROM transactions t, generate_series(1, $2::int)
         WHERE t.user_id = $1`,
        [bulk.id, EXPORT_MAX_ROWS],
      );
      const res = await get(exportTx, {}, bulk.access);
      expect(res.status).toBe(400);
      expect(res.body.detail).toMatch(/limited to 10000 rows.*Narrow the filters/);
      const narrowed = await get(exportTx, { date_to: '2026-01-31' }, bulk.access);
      expect(narrowed.status).toBe(200);
      expect(parseCsv(narrowed.raw!)).toHaveLength(2);
    });

    it('exports just the header row when nothing matches', async () => {
      const res = await get(exportTx, { search: 'zzz' });
      expect(res.raw).toBe('id,date,book,type,amount,balance_after,category,description,payment_mode,created_at,updated_at,transfer,created_by,updated_by\r\n');
    });
  });
});
