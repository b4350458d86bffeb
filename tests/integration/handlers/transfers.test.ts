import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as deleteBook } from '../../../functions/delete-book.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as exportTx } from '../../../functions/export-transactions.js';
import { handler as getTx } from '../../../functions/get-transaction.js';
import { handler as listTx } from '../../../functions/list-transactions.js';
import { handler as replaceTx } from '../../../functions/replace-transaction.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { handler as createTransfer } from '../../../functions/create-transfer.js';
import { handler as deleteTransfer } from '../../../functions/delete-transfer.js';
import { handler as getTransfer } from '../../../functions/get-transfer.js';
import { handler as listTransfers } from '../../../functions/list-transfers.js';
import { handler as updateTransfer } from '../../../functions/update-transfer.js';
import { parseCsv } from '../../../lib/csv.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Transfers between books (issue 20): a pair of entries, an expense in from_book and an income in
// to_book, written, edited and deleted together, reported apart from income and expense.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let mallory: User;
let cash: string;
let bank: string;
let dollars: string;
let mallorysBook: string;

const newBook = async (token: string, name: string, currency = 'INR') => {
  const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token, body: { name, currency } });
  expect(res.status).toBe(201);
  return res.body.id as string;
};
const transfer = (body: object, token = alice.access, headers?: Record<string, string>) =>
  invoke(createTransfer, { method: 'POST', path: '/api/transfers/', token, body, ...(headers ? { headers } : {}) });
const byId = (handler: unknown, path: string, id: string, extra: { method?: string; body?: object; token?: string } = {}) =>
  invoke(handler, { method: extra.method ?? 'GET', path: `${path}${id}/`, pathParameters: { id }, token: extra.token ?? alice.access, ...(extra.body ? { body: extra.body } : {}) });
const balance = async (book: string) => (await byId(getBook, '/api/books/', book)).body.balance as string;
const entries = (transferId: string) =>
  adminQuery<{ id: string; book_id: string; type: string; amount: string; date: string; category: string; description: string }>(
    `SELECT id, book_id, type, amount::text, date::text, category, description FROM transactions WHERE transfer_id = $1 ORDER BY type`,
    [transferId],
  );
const summaryOf = async (query: Record<string, string> = {}, token = alice.access) => {
  const res = await invoke(summary, { path: '/api/transactions/summary/', token, query });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body;
};

describe('transfers', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
    cash = await newBook(alice.access, 'Cash');
    bank = await newBook(alice.access, 'Bank');
    dollars = await newBook(alice.access, 'Dollars', 'USD');
    mallorysBook = await newBook(mallory.access, 'Mine');
  });
  afterAll(() => expectNoAppConnections());

  it('creates both entries at once, each carrying the transfer, and moves the balance between the books', async () => {
    const res = await transfer({ from_book: cash, to_book: bank, amount: '500.00', date: '2026-01-10', description: 'deposit' });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const t = res.body;
    expect(t).toMatchObject({
      from_book: cash, to_book: bank, amount: '500.00', to_amount: '500.00', date: '2026-01-10',
      description: 'deposit', category: 'transfer', payment_mode: 'cash',
    });
    expect(t.from_entry).toMatchObject({ book: cash, type: 'expense', amount: '500.00', category: 'transfer', transfer: t.id });
    expect(t.to_entry).toMatchObject({ book: bank, type: 'income', amount: '500.00', category: 'transfer', transfer: t.id });
    expect(Object.keys(t)).toEqual([
      'id', 'from_book', 'to_book', 'amount', 'to_amount', 'date', 'description', 'category', 'payment_mode', 'created_at', 'updated_at', 'from_entry', 'to_entry',
    ]);
    expect(await balance(cash)).toBe('-500.00');
    expect(await balance(bank)).toBe('500.00');
    expect((await byId(getTransfer, '/api/transfers/', t.id)).body).toEqual(t);
    expect((await byId(getTx, '/api/transactions/', t.to_entry.id)).body).toEqual(t.to_entry);
  });

  it('answers transfer: null on ordinary entries', async () => {
    const res = await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { book: cash, type: 'income', amount: '1000.00', date: '2026-01-05' } });
    expect(res.status).toBe(201);
    expect(res.body.transfer).toBeNull();
  });

  it('refuses the same book, unknown or another user\'s books, naming the field', async () => {
    const same = await transfer({ from_book: cash, to_book: cash, amount: '1.00' });
    expect(same.status).toBe(400);
    expect(Object.keys(same.body)).toEqual(['to_book']);
    const theirs = await transfer({ from_book: mallorysBook, to_book: bank, amount: '1.00' });
    expect(theirs.status).toBe(400);
    expect(theirs.body).toEqual({ from_book: [`Invalid pk "${mallorysBook}" - object does not exist.`] });
    const missing = '00000000-0000-4000-8000-000000000000';
    const unknown = await transfer({ from_book: cash, to_book: missing, amount: '1.00' });
    expect(unknown.body).toEqual({ to_book: [`Invalid pk "${missing}" - object does not exist.`] });
    expect((await transfer({ to_book: bank, amount: '1.00' })).body).toEqual({ from_book: ['This field is required.'] });
    expect(await adminQuery('SELECT 1 FROM transactions WHERE user_id = $1 AND amount = 1', [alice.id])).toEqual([]);
  });

  it('refuses books of different currencies without to_amount, and takes each side in its currency with it', async () => {
    const refused = await transfer({ from_book: bank, to_book: dollars, amount: '8300.00' });
    expect(refused.status).toBe(400);
    expect(refused.body).toEqual({ to_amount: ['The books have different currencies (INR and USD): give to_amount, what to_book receives in USD.'] });
    const res = await transfer({ from_book: bank, to_book: dollars, amount: '8300.00', to_amount: '100.00', date: '2026-01-12' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ amount: '8300.00', to_amount: '100.00' });
    expect(await balance(dollars)).toBe('100.00');
    // Between books of one currency, to_amount is the amount: anything else would create money.
    const unequal = await transfer({ from_book: cash, to_book: bank, amount: '10.00', to_amount: '9.00' });
    expect(unequal.body).toEqual({ to_amount: ['Both books are in INR: to_amount, when given, must equal amount.'] });
    expect((await transfer({ from_book: cash, to_book: bank, amount: '10.00', to_amount: '10.00', date: '2026-01-13' })).status).toBe(201);
  });

  it('edits both entries with PATCH /api/transfers/{id}/, and never its books', async () => {
    const { body: t } = await transfer({ from_book: cash, to_book: bank, amount: '50.00', date: '2026-01-15' });
    const res = await byId(updateTransfer, '/api/transfers/', t.id, { method: 'PATCH', body: { amount: '75.50', date: '2026-02-01', description: 'moved', payment_mode: 'bank' } });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body).toMatchObject({ amount: '75.50', to_amount: '75.50', date: '2026-02-01', description: 'moved', payment_mode: 'bank' });
    expect((await entries(t.id)).map((e) => [e.type, e.amount, e.date, e.description])).toEqual([
      ['expense', '75.50', '2026-02-01', 'moved'],
      ['income', '75.50', '2026-02-01', 'moved'],
    ]);
    const move = await byId(updateTransfer, '/api/transfers/', t.id, { method: 'PATCH', body: { to_book: dollars } });
    expect(move.status).toBe(400);
    expect(move.body).toEqual({ to_book: ['A transfer\'s books cannot change: delete the transfer and create another.'] });
    const unequal = await byId(updateTransfer, '/api/transfers/', t.id, { method: 'PATCH', body: { to_amount: '1.00' } });
    expect(unequal.status).toBe(400);
    expect(Object.keys(unequal.body)).toEqual(['to_amount']);
  });

  it('keeps the pair through the transaction endpoints: a date or amount moves both sides, type and book are refused', async () => {
    const { body: t } = await transfer({ from_book: cash, to_book: bank, amount: '20.00', date: '2026-01-20' });
    const patched = await byId(updateTx, '/api/transactions/', t.to_entry.id, { method: 'PATCH', body: { amount: '25.00', date: '2026-01-21', description: 'bank side' } });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    expect(patched.body).toMatchObject({ amount: '25.00', date: '2026-01-21', description: 'bank side', transfer: t.id });
    expect((await entries(t.id)).map((e) => [e.type, e.amount, e.date, e.description])).toEqual([
      ['expense', '25.00', '2026-01-21', ''],
      ['income', '25.00', '2026-01-21', 'bank side'],
    ]);
    // A side's own text is its own: the other side is not written at all.
    const incomeBefore = (await byId(getTx, '/api/transactions/', t.to_entry.id)).body;
    const note = await byId(updateTx, '/api/transactions/', t.from_entry.id, { method: 'PATCH', body: { description: 'cash side', category: 'Deposit' } });
    expect(note.body).toMatchObject({ description: 'cash side', category: 'Deposit' });
    expect((await byId(getTx, '/api/transactions/', t.to_entry.id)).body).toEqual(incomeBefore);
    const type = await byId(updateTx, '/api/transactions/', t.from_entry.id, { method: 'PATCH', body: { type: 'income' } });
    expect(type.status).toBe(400);
    expect(type.body.type[0]).toContain(`/api/transfers/${t.id}/`);
    const book = await byId(updateTx, '/api/transactions/', t.from_entry.id, { method: 'PATCH', body: { book: dollars } });
    expect(book.status).toBe(400);
    expect(Object.keys(book.body)).toEqual(['book']);
    // PUT sends every field: the entry's own type and book are no change.
    const put = await byId(replaceTx, '/api/transactions/', t.from_entry.id, {
      method: 'PUT',
      body: { book: cash, type: 'expense', amount: '30.00', category: 'Deposit', description: 'put', date: '2026-01-22', payment_mode: 'cash' },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect((await entries(t.id)).map((e) => [e.amount, e.date])).toEqual([['30.00', '2026-01-22'], ['30.00', '2026-01-22']]);
  });

  it('changes only its own side\'s amount between books of different currencies', async () => {
    const { body: t } = await transfer({ from_book: bank, to_book: dollars, amount: '830.00', to_amount: '10.00', date: '2026-01-25' });
    const res = await byId(updateTx, '/api/transactions/', t.to_entry.id, { method: 'PATCH', body: { amount: '10.05' } });
    expect(res.status).toBe(200);
    expect((await entries(t.id)).map((e) => e.amount)).toEqual(['830.00', '10.05']);
    const both = await byId(updateTransfer, '/api/transfers/', t.id, { method: 'PATCH', body: { amount: '840.00', to_amount: '10.10' } });
    expect(both.body).toMatchObject({ amount: '840.00', to_amount: '10.10' });
  });

  it('deletes both entries whichever side is deleted, or the transfer', async () => {
    const before = [await balance(cash), await balance(bank)];
    const { body: one } = await transfer({ from_book: cash, to_book: bank, amount: '5.00' });
    expect((await byId(deleteTx, '/api/transactions/', one.to_entry.id, { method: 'DELETE' })).status).toBe(204);
    expect(await entries(one.id)).toEqual([]);
    expect((await byId(getTransfer, '/api/transfers/', one.id)).status).toBe(404);
    const { body: two } = await transfer({ from_book: cash, to_book: bank, amount: '6.00' });
    expect((await byId(deleteTransfer, '/api/transfers/', two.id, { method: 'DELETE' })).status).toBe(204);
    expect(await entries(two.id)).toEqual([]);
    expect((await byId(deleteTransfer, '/api/transfers/', two.id, { method: 'DELETE' })).status).toBe(404);
    expect([await balance(cash), await balance(bank)]).toEqual(before);
  });

  it('answers 404 for another user\'s transfer and its entries, and changes nothing', async () => {
    const { body: t } = await transfer({ from_book: cash, to_book: bank, amount: '3.00', date: '2026-01-03' });
    const token = mallory.access;
    expect((await byId(getTransfer, '/api/transfers/', t.id, { token })).status).toBe(404);
    expect((await byId(updateTransfer, '/api/transfers/', t.id, { token, method: 'PATCH', body: { amount: '1.00' } })).status).toBe(404);
    expect((await byId(deleteTransfer, '/api/transfers/', t.id, { token, method: 'DELETE' })).status).toBe(404);
    expect((await byId(deleteTx, '/api/transactions/', t.from_entry.id, { token, method: 'DELETE' })).status).toBe(404);
    expect((await byId(updateTx, '/api/transactions/', t.from_entry.id, { token, method: 'PATCH', body: { date: '2020-01-01' } })).status).toBe(404);
    expect((await entries(t.id)).map((e) => [e.amount, e.date])).toEqual([['3.00', '2026-01-03'], ['3.00', '2026-01-03']]);
    const list = await invoke(listTransfers, { path: '/api/transfers/', token });
    expect(list.body).toMatchObject({ count: 0, results: [] });
  });

  it('lists transfers newest first, paged, by book and dates', async () => {
    const all = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access });
    expect(all.status).toBe(200);
    const dates = all.body.results.map((t: { date: string }) => t.date);
    expect(dates).toEqual([...dates].sort().reverse());
    expect(all.body.count).toBe(all.body.results.length);
    const dollarsOnly = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access, query: { book: dollars } });
    expect(dollarsOnly.body.results.every((t: { to_book: string }) => t.to_book === dollars)).toBe(true);
    expect(dollarsOnly.body.count).toBe(2);
    const paged = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access, query: { page_size: '2', page: '2' } });
    expect(paged.body.results).toEqual(all.body.results.slice(2, 4));
    expect(paged.body.count).toBe(all.body.count);
    const window = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access, query: { date_after: '2026-01-12', date_before: '2026-01-13' } });
    expect(window.body.results.map((t: { date: string }) => t.date)).toEqual(['2026-01-13', '2026-01-12']);
    const theirs = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access, query: { book: mallorysBook } });
    expect(theirs.status).toBe(400);
    expect(Object.keys(theirs.body)).toEqual(['book']);
  });

  it('reports transfers apart from income and expense in the summary, and leaves them out on request', async () => {
    const s = await summaryOf({ book: bank });
    const rows = await adminQuery<{ income: string; tin: string; tout: string; n: string }>(
      `SELECT COALESCE(sum(amount) FILTER (WHERE type = 'income' AND transfer_id IS NULL), 0)::text AS income,
              COALESCE(sum(amount) FILTER (WHERE type = 'income' AND transfer_id IS NOT NULL), 0)::text AS tin,
              COALESCE(sum(amount) FILTER (WHERE type = 'expense' AND transfer_id IS NOT NULL), 0)::text AS tout, count(*)::text AS n
       FROM transactions WHERE book_id = $1`,
      [bank],
    );
    const r = rows[0]!;
    expect(s.total_income).toBe(Number(r.income).toFixed(2));
    expect(s.transfers_in).toBe(Number(r.tin).toFixed(2));
    expect(s.transfers_out).toBe(Number(r.tout).toFixed(2));
    expect(s.count).toBe(Number(r.n));
    expect(s.balance).toBe(await balance(bank));
    expect(s.by_month[0]).toHaveProperty('transfers_in');
    expect(s.by_category.find((c: { category: string }) => c.category === 'transfer')).toMatchObject({ income: '0.00', expense: '0.00' });
    const without = await summaryOf({ book: bank, exclude_transfers: 'true' });
    expect(without).toMatchObject({ count: 0, transfers_in: '0.00', transfers_out: '0.00', balance: '0.00' });
    // The same through a scan (search is answered from the rows, not the totals).
    const scanned = await summaryOf({ book: bank, search: 'a' });
    const both = await summaryOf({ book: bank, date_from: '2026-01-11', date_to: '2026-02-14' });
    expect(Number(both.transfers_in)).toBeGreaterThan(0);
    expect(Number(scanned.transfers_in) + Number(scanned.transfers_out)).toBeGreaterThanOrEqual(0);
  });

  it('lists and exports without transfers on request, counting from the totals', async () => {
    const all = await invoke(listTx, { path: '/api/transactions/', token: alice.access, query: { book: cash } });
    const without = await invoke(listTx, { path: '/api/transactions/', token: alice.access, query: { book: cash, exclude_transfers: 'true' } });
    expect(without.status).toBe(200);
    expect(without.body.results.every((t: { transfer: string | null }) => t.transfer === null)).toBe(true);
    expect(without.body.count).toBe(all.body.results.filter((t: { transfer: string | null }) => t.transfer === null).length);
    // balance_after stays the book's, transfers included.
    const ordinary = all.body.results.find((t: { transfer: string | null }) => t.transfer === null);
    expect(without.body.results.find((t: { id: string }) => t.id === ordinary.id).balance_after).toBe(ordinary.balance_after);
    // Deep pages start from the totals (the day a page starts in): each page is the next row.
    for (const day of ['2026-01-12', '2026-01-21', '2026-01-22', '2026-02-01']) {
      await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { book: bank, type: 'expense', amount: '1.00', date: day } });
    }
    const full = await invoke(listTx, { path: '/api/transactions/', token: alice.access, query: { page_size: '500' } });
    const expected = full.body.results.filter((t: { transfer: string | null }) => t.transfer === null).map((t: { id: string }) => t.id);
    expect(expected.length).toBe(5);
    for (let page = 1; page <= expected.length; page++) {
      const res = await invoke(listTx, { path: '/api/transactions/', token: alice.access, query: { exclude_transfers: 'true', page_size: '1', page: String(page) } });
      expect(res.body.results.map((t: { id: string }) => t.id)).toEqual([expected[page - 1]]);
      expect(res.body.count).toBe(expected.length);
    }
    const csv = await invoke(exportTx, { path: '/api/transactions/export/', token: alice.access, query: { book: cash } });
    const [header, ...lines] = parseCsv(csv.raw!);
    const transferColumn = header!.indexOf('transfer');
    expect(header!.slice(transferColumn)).toEqual(['transfer', 'created_by', 'updated_by']);
    expect(lines.filter((l) => l.length > 1 && l[transferColumn] !== '').length).toBeGreaterThan(0);
    expect((await invoke(listTx, { path: '/api/transactions/', token: alice.access, query: { exclude_transfers: 'maybe' } })).status).toBe(400);
  });

  it('replays a transfer for a repeated Idempotency-Key without a second pair', async () => {
    const body = { from_book: cash, to_book: bank, amount: '42.00', description: 'once' };
    const first = await transfer(body, alice.access, { 'idempotency-key': 'transfer-1' });
    expect(first.status).toBe(201);
    const again = await transfer(body, alice.access, { 'idempotency-key': 'transfer-1' });
    expect(again.status).toBe(201);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(again.raw).toBe(first.raw);
    expect(await adminQuery(`SELECT 1 FROM transactions WHERE description = 'once'`)).toHaveLength(2);
    const other = await transfer({ ...body, amount: '43.00' }, alice.access, { 'idempotency-key': 'transfer-1' });
    expect(other.status).toBe(422);
  });

  it('serves concurrent edits of one transfer through both endpoints, and it stays a pair', async () => {
    const { body: t } = await transfer({ from_book: cash, to_book: bank, amount: '11.00', date: '2026-03-01' });
    const edits = Array.from({ length: 12 }, (_, i) => {
      const body = { amount: `${11 + i}.00`, date: `2026-03-${String(2 + i).padStart(2, '0')}` };
      if (i % 3 === 0) return byId(updateTransfer, '/api/transfers/', t.id, { method: 'PATCH', body });
      return byId(updateTx, '/api/transactions/', i % 3 === 1 ? t.from_entry.id : t.to_entry.id, { method: 'PATCH', body });
    });
    const statuses = (await Promise.all(edits)).map((r) => r.status);
    expect(statuses.every((s) => s === 200), statuses.join(',')).toBe(true);
    const [expense, income] = await entries(t.id);
    expect([income!.amount, income!.date]).toEqual([expense!.amount, expense!.date]);
  });

  it('keeps the other side as an ordinary entry when a book is deleted with its entries', async () => {
    const savings = await newBook(alice.access, 'Savings');
    const { body: t } = await transfer({ from_book: cash, to_book: savings, amount: '9.00' });
    const cashBefore = await balance(cash);
    const res = await invoke(deleteBook, { method: 'DELETE', path: `/api/books/${savings}/`, pathParameters: { id: savings }, token: alice.access, query: { force: 'true' } });
    expect(res.status).toBe(204);
    const left = await byId(getTx, '/api/transactions/', t.from_entry.id);
    expect(left.body).toMatchObject({ transfer: null, amount: '9.00', type: 'expense' });
    expect(await balance(cash)).toBe(cashBefore);
    expect(await adminQuery('SELECT 1 FROM transfer_totals WHERE book_id = $1', [savings])).toEqual([]);
  });
});
