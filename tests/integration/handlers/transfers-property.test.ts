import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as listBooks } from '../../../functions/list-books.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { handler as createTransfer } from '../../../functions/create-transfer.js';
import { handler as deleteTransfer } from '../../../functions/delete-transfer.js';
import { handler as listTransfers } from '../../../functions/list-transfers.js';
import { handler as updateTransfer } from '../../../functions/update-transfer.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, expectTotalsMatchRows, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// A transfer never changes the sum of all the caller's books' balances: random sequences of
// transfers, edits of either the transfer or one of its entries (amount, date), and deletes of
// either side or of the transfer, over books of one currency. After every step: the sum is
// unchanged, every transfer is still a pair, both totals tables equal a recompute from the rows
// row for row, and the summary's income, expense and transfers equal the same sums from the rows.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let books: string[] = [];
let startingSum = 0n;

const DAY0 = Date.UTC(2025, 11, 20); // steps cross a month and a year boundary
const day = (n: number) => new Date(DAY0 + n * 86_400_000).toISOString().slice(0, 10);
const cents = (c: number) => (c / 100).toFixed(2);
const toCents = (s: string) => BigInt(s.replace('.', ''));

const amountArb = fc.integer({ min: 1, max: 5_000_000 });
const stepArb = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('create' as const), from: fc.nat(3), hop: fc.integer({ min: 1, max: 3 }), amount: amountArb, day: fc.nat(40), category: fc.constantFrom(undefined, 'Deposit') }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('patch-transfer' as const), pick: fc.nat(), amount: fc.option(amountArb, { nil: undefined }), day: fc.option(fc.nat(40), { nil: undefined }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('patch-entry' as const), pick: fc.nat(), income: fc.boolean(), amount: fc.option(amountArb, { nil: undefined }), day: fc.option(fc.nat(40), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-entry' as const), pick: fc.nat(), income: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('delete-transfer' as const), pick: fc.nat() }) },
);
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

const byId = (handler: unknown, path: string, id: string, method: string, body?: object) =>
  invoke(handler, { method, path: `${path}${id}/`, pathParameters: { id }, token: alice.access, ...(body ? { body } : {}) });

async function pick(n: number): Promise<{ transfer: string; expense: string; income: string } | undefined> {
  const rows = await adminQuery<{ transfer: string; expense: string; income: string }>(
    `SELECT transfer_id AS transfer, (array_agg(id) FILTER (WHERE type = 'expense'))[1] AS expense, (array_agg(id) FILTER (WHERE type = 'income'))[1] AS income
     FROM transactions WHERE user_id = $1 AND transfer_id IS NOT NULL GROUP BY transfer_id ORDER BY transfer_id`,
    [alice.id],
  );
  return rows.length ? rows[n % rows.length] : undefined;
}

async function run(step: Step): Promise<void> {
  if (step.kind === 'create') {
    const body = { from_book: books[step.from], to_book: books[(step.from + step.hop) % 4], amount: cents(step.amount), date: day(step.day), ...(step.category ? { category: step.category } : {}) };
    const res = await invoke(createTransfer, { method: 'POST', path: '/api/transfers/', token: alice.access, body });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return;
  }
  const target = await pick(step.pick);
  if (!target) return;
  const change = (s: { amount?: number; day?: number }) => ({
    ...(s.amount === undefined ? {} : { amount: cents(s.amount) }),
    ...(s.day === undefined ? {} : { date: day(s.day) }),
  });
  let res;
  switch (step.kind) {
    case 'patch-transfer':
      res = await byId(updateTransfer, '/api/transfers/', target.transfer, 'PATCH', change(step));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return;
    case 'patch-entry':
      res = await byId(updateTx, '/api/transactions/', step.income ? target.income : target.expense, 'PATCH', change(step));
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return;
    case 'delete-entry':
      res = await byId(deleteTx, '/api/transactions/', step.income ? target.income : target.expense, 'DELETE');
      expect(res.status).toBe(204);
      return;
    case 'delete-transfer':
      res = await byId(deleteTransfer, '/api/transfers/', target.transfer, 'DELETE');
      expect(res.status).toBe(204);
      return;
  }
}

async function balanceSum(): Promise<bigint> {
  const res = await invoke(listBooks, { path: '/api/books/', token: alice.access });
  expect(res.status).toBe(200);
  return (res.body.results as Array<{ balance: string }>).reduce((sum, b) => sum + toCents(b.balance), 0n);
}


/** After every step: the sum of the balances, the pairs, both totals tables. */
async function expectInvariants(): Promise<void> {
  expect(await balanceSum()).toBe(startingSum);
  const broken = await adminQuery(
    `SELECT transfer_id FROM transactions WHERE transfer_id IS NOT NULL GROUP BY transfer_id
     HAVING count(*) <> 2 OR count(*) FILTER (WHERE type = 'income') <> 1 OR count(DISTINCT book_id) <> 2
         OR count(DISTINCT date) <> 1 OR count(DISTINCT amount) <> 1 OR count(DISTINCT user_id) <> 1`,
  );
  expect(broken, 'transfers that are no longer a pair').toEqual([]);
  await expectTotalsMatchRows('book_totals', 'true');
  await expectTotalsMatchRows('transfer_totals', 't.transfer_id IS NOT NULL');
}

/** After every sequence: the list of transfers and its count (from transfer_totals) against the rows. */
async function expectTransferLists(): Promise<void> {
  const queries: Array<Record<string, string>> = [{}, { book: books[2]! }, { date_after: day(3), date_before: day(25) }, { book: books[0]!, date_after: day(10) }];
  for (const query of queries) {
    const res = await invoke(listTransfers, { path: '/api/transfers/', token: alice.access, query: { ...query, page_size: '500' } });
    expect(res.status).toBe(200);
    const want = await adminQuery<{ id: string }>(
      `SELECT f.transfer_id AS id FROM transactions f JOIN transactions t ON t.transfer_id = f.transfer_id AND t.type = 'income'
       WHERE f.type = 'expense' AND f.user_id = $1 AND ($2::uuid IS NULL OR $2 IN (f.book_id, t.book_id))
         AND ($3::date IS NULL OR f.date >= $3) AND ($4::date IS NULL OR f.date <= $4)
       ORDER BY f.date DESC, f.created_at DESC, f.id DESC`,
      [alice.id, query.book ?? null, query.date_after ?? null, query.date_before ?? null],
    );
    expect(res.body.count, JSON.stringify(query)).toBe(want.length);
    expect(res.body.results.map((t: { id: string }) => t.id)).toEqual(want.map((r) => r.id));
  }
}

/** After every sequence: the summary, from the totals (or a scan of the edges of a date range), against the rows. */
async function expectSummaries(): Promise<void> {
  const queries: Array<Record<string, string>> = [{}, { book: books[1]! }, { date_from: day(5), date_to: day(30) }, { category: 'Deposit' }];
  for (const query of queries) {
    const res = await invoke(summary, { path: '/api/transactions/summary/', token: alice.access, query });
    expect(res.status).toBe(200);
    const sql = await adminQuery<Record<string, string>>(
      `SELECT count(*)::text AS count,
              COALESCE(sum(amount) FILTER (WHERE type = 'income' AND transfer_id IS NULL), 0)::numeric(20, 2)::text AS total_income,
              COALESCE(sum(amount) FILTER (WHERE type = 'expense' AND transfer_id IS NULL), 0)::numeric(20, 2)::text AS total_expense,
              COALESCE(sum(amount) FILTER (WHERE type = 'income' AND transfer_id IS NOT NULL), 0)::numeric(20, 2)::text AS transfers_in,
              COALESCE(sum(amount) FILTER (WHERE type = 'expense' AND transfer_id IS NOT NULL), 0)::numeric(20, 2)::text AS transfers_out
       FROM transactions WHERE user_id = $1 AND ($2::uuid IS NULL OR book_id = $2) AND ($3::date IS NULL OR date BETWEEN $3 AND $4)
         AND ($5::text IS NULL OR category = $5)`,
      [alice.id, 'book' in query ? query.book : null, 'date_from' in query ? query.date_from : null, 'date_to' in query ? query.date_to : null,
        'category' in query ? query.category : null],
    );
    const want = sql[0]!;
    expect(res.body, JSON.stringify(query)).toMatchObject({ ...want, count: Number(want.count) });
    if (Object.keys(query).length === 0) {
      // Over all the books, what leaves one book enters another.
      expect(res.body.transfers_in).toBe(res.body.transfers_out);
      expect(toCents(res.body.balance)).toBe(startingSum);
    }
  }
}

describe('transfers keep the sum of the balances (property)', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    const list = await invoke(listBooks, { path: '/api/books/', token: alice.access });
    books = [list.body.results[0].id];
    for (const name of ['Bank', 'Savings', 'Partner']) {
      const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name, currency: 'INR' } });
      books.push(res.body.id);
    }
    // Ordinary entries the transfers sit among (and another user's, which nothing may touch).
    for (const [i, book] of books.entries()) {
      for (const [type, amount, d] of [['income', '1000.00', i], ['expense', '123.45', 20 + i]] as const) {
        await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { book, type, amount, date: day(d), category: 'Deposit' } });
      }
    }
    startingSum = await balanceSum();
  });
  afterAll(() => expectNoAppConnections());

  it('holds over random sequences of transfers, edits and deletes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 10 }), async (steps) => {
        for (const step of steps) {
          await run(step);
          await expectInvariants();
        }
        await expectSummaries();
        await expectTransferLists();
      }),
      { numRuns: 12 },
    );
  }, 180_000);
});
