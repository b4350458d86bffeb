import fc from 'fast-check';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as exportTx } from '../../../functions/export-transactions.js';
import { handler as listBooks } from '../../../functions/list-books.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { parseCsv } from '../../../lib/csv.js';
import { filterSql, orderSql } from '../../../lib/transactions/filters.js';
import { listTransactionsQuery } from '../../../lib/transactions/schema.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, expectTotalsMatchRows, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { addMember } from '../../support/sharing.js';

// The per-book totals (migration 1764000020000) against a full recompute, to the cent: random
// sequences of backdated inserts, updates that move date / book / amount / type / category,
// deletes, bulk imports and concurrent writers, through the API and straight through SQL (as
// psql or an importer would). After every step: the totals tables row for row, and what the
// API answers from them — the list's balance_after and pages, the summary, the books'
// balances and the export — against the same figures computed from the rows themselves.

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let bob: User;
let books: string[] = [];
/** A book of alice's account she is no longer a member of. */
let hidden: string;

const DAY0 = Date.UTC(2025, 11, 10); // 2025-12-10: steps cross a month and a year boundary
const CATEGORIES = ['', 'Food', 'food', 'Rent', 'Trip'];

const day = (n: number) => new Date(DAY0 + n * 86_400_000).toISOString().slice(0, 10);
const cents = (c: number) => (c / 100).toFixed(2);

/** A decimal string with two places from BigInt cents, as the API writes money. */
function money(c: bigint): string {
  const sign = c < 0n ? '-' : '';
  const abs = c < 0n ? -c : c;
  return `${sign}${abs / 100n}.${(abs % 100n).toString().padStart(2, '0')}`;
}
const toCents = (s: string) => BigInt(s.replace('.', ''));
const NO_TRANSFERS = { transfers_in: '0.00', transfers_out: '0.00' };

// ---- the steps -------------------------------------------------------------------------

const amountArb = fc.oneof(
  { weight: 5, arbitrary: fc.integer({ min: 1, max: 100_000 }) },
  { weight: 1, arbitrary: fc.constant(999_999_999_999) },
);
const rowArb = fc.record({
  book: fc.nat(2),
  day: fc.nat(60),
  income: fc.boolean(),
  amount: amountArb,
  category: fc.constantFrom(...CATEGORIES),
});
const patchArb = fc.record(
  {
    book: fc.nat(2),
    date: fc.nat(60).map(day),
    amount: amountArb.map(cents),
    type: fc.constantFrom('income', 'expense'),
    category: fc.constantFrom(...CATEGORIES),
    description: fc.constantFrom('moved', 'x'),
  },
  { requiredKeys: [] },
);

const stepArb = fc.oneof(
  fc.record({ kind: fc.constant('insert' as const), row: rowArb }),
  fc.record({ kind: fc.constant('update' as const), pick: fc.nat(), patch: patchArb }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('import' as const), row: rowArb, count: fc.integer({ min: 1, max: 300 }), spread: fc.integer({ min: 1, max: 45 }) }),
  fc.record({ kind: fc.constant('bulk-update' as const), book: fc.nat(2), shift: fc.integer({ min: -40, max: 40 }), toBook: fc.nat(2), flip: fc.boolean() }),
  fc.record({ kind: fc.constant('bulk-delete' as const), category: fc.constantFrom(...CATEGORIES), fromDay: fc.nat(60) }),
  fc.record({ kind: fc.constant('concurrent' as const), rows: fc.array(rowArb, { minLength: 2, maxLength: 4 }), shift: fc.integer({ min: 1, max: 9 }) }),
  fc.record({ kind: fc.constant('concurrent-api' as const), rows: fc.array(rowArb, { minLength: 2, maxLength: 3 }) }),
);
type Step = typeof stepArb extends fc.Arbitrary<infer S> ? S : never;

type Row = { book: number; day: number; income: boolean; amount: number; category: string };

const create = async (row: Row) => {
  const res = await invoke(createTx, {
    method: 'POST',
    path: '/api/transactions/',
    token: alice.access,
    body: { book: books[row.book], date: day(row.day), type: row.income ? 'income' : 'expense', amount: cents(row.amount), category: row.category },
  });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
};

const aliceIds = async () =>
  (await adminQuery<{ id: string }>('SELECT id FROM transactions WHERE user_id = $1 AND book_id <> $2 ORDER BY id', [alice.id, hidden])).map((r) => r.id);

/** A multi-row import as psql or an importer would run it (superuser, one statement). */
function importSql(row: Row, count: number, spread: number, description = 'import') {
  return {
    text: `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date, created_at)
           SELECT $1, $2, CASE WHEN (i + $3) % 3 = 0 THEN 'income' ELSE 'expense' END, ($4::numeric + i) / 100, $5, $9,
                  $6::date + (i % $7), now() - make_interval(secs => i % 5)
           FROM generate_series(1, $8) AS i`,
    values: [alice.id, books[row.book], row.income ? 0 : 1, Math.min(row.amount, 999_999_999_000), row.category, day(row.day), spread, count, description],
  };
}

async function run(step: Step): Promise<void> {
  switch (step.kind) {
    case 'insert':
      return create(step.row);
    case 'update': {
      const ids = await aliceIds();
      if (!ids.length) return;
      const id = ids[step.pick % ids.length]!;
      const { book, ...rest } = step.patch;
      const body = { ...rest, ...(book === undefined ? {} : { book: books[book] }) };
      const res = await invoke(updateTx, { method: 'PATCH', path: `/api/transactions/${id}/`, pathParameters: { id }, token: alice.access, body });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      return;
    }
    case 'delete': {
      const ids = await aliceIds();
      if (!ids.length) return;
      const id = ids[step.pick % ids.length]!;
      const res = await invoke(deleteTx, { method: 'DELETE', path: `/api/transactions/${id}/`, pathParameters: { id }, token: alice.access });
      expect(res.status).toBe(204);
      return;
    }
    case 'import': {
      const { text, values } = importSql(step.row, step.count, step.spread);
      await adminQuery(text, values);
      return;
    }
    case 'bulk-update':
      // Moves a whole book's rows in time and to another book, and flips income/expense.
      await adminQuery(
        `UPDATE transactions SET date = date + $3::int, book_id = $4,
           type = CASE WHEN $5 THEN (CASE type WHEN 'income' THEN 'expense' ELSE 'income' END) ELSE type END
         WHERE user_id = $1 AND book_id = $2`,
        [alice.id, books[step.book], step.shift, books[step.toBook], step.flip],
      );
      return;
    case 'bulk-delete':
      await adminQuery('DELETE FROM transactions WHERE user_id = $1 AND category = $2 AND date >= $3', [alice.id, step.category, day(step.fromDay)]);
      return;
    case 'concurrent': {
      // Writers on separate connections, each a multi-row statement, over overlapping days and
      // books: they must neither deadlock nor lose an update of a shared total row. Each moves
      // only its own rows: two UPDATEs of the same rows in different orders deadlock on the rows
      // themselves in any PostgreSQL schema (seen in a full run), which says nothing of the totals.
      const clients = step.rows.map(() => new pg.Client({ connectionString: inject('adminUrl') }));
      await Promise.all(clients.map((c) => c.connect()));
      try {
        await Promise.all(
          clients.map(async (c, i) => {
            const writer = `concurrent ${i}`;
            const { text, values } = importSql(step.rows[i]!, 40, 7, writer);
            await c.query(text, values);
            await c.query(`UPDATE transactions SET date = date + $2::int WHERE user_id = $1 AND description = $4 AND date < $3`, [
              alice.id,
              i % 2 ? step.shift : -step.shift,
              day(step.rows[i]!.day + 3),
              writer,
            ]);
          }),
        );
      } finally {
        await Promise.all(clients.map((c) => c.end()));
      }
      return;
    }
    case 'concurrent-api':
      await Promise.all(step.rows.map(create));
      return;
  }
}

// ---- the checks ------------------------------------------------------------------------

/** The totals tables equal a recompute from the rows, row for row. */
const expectTotalsExact = () => expectTotalsMatchRows('book_totals', 'true');

/** Every row's running balance in its book, in ledger order, from all the rows. */
async function referenceBalances(): Promise<Map<string, string>> {
  const rows = await adminQuery<{ id: string; balance: string }>(
    `SELECT id, (sum(CASE WHEN type = 'income' THEN amount ELSE -amount END)
                 OVER (PARTITION BY book_id ORDER BY date, created_at, id))::numeric(20, 2)::text AS balance
     FROM transactions WHERE book_id IN ${MEMBER_BOOKS}`,
    [alice.id],
  );
  return new Map(rows.map((r) => [r.id, r.balance]));
}

/** The books alice is an active member of (her own, and bob's, shared with her). */
const MEMBER_BOOKS = `(SELECT m.book_id FROM book_members m WHERE m.user_id = $1 AND m.status = 'active')`;

/** The rows of alice's books that the filters keep, as a condition on `transactions t`. */
function aliceRows(filters: ReturnType<typeof listTransactionsQuery.parse>): { where: string; values: unknown[] } {
  const values: unknown[] = [alice.id];
  const { where } = filterSql(filters, values);
  const book = filters.book ? ` AND t.book_id = $${values.push(filters.book)}` : '';
  return { where: `t.book_id IN ${MEMBER_BOOKS}${book} AND ${where}`, values };
}

/** The filtered, ordered ids by plain SQL (no totals). */
async function referenceList(query: Record<string, string>): Promise<string[]> {
  const filters = listTransactionsQuery.parse(query);
  const { where, values } = aliceRows(filters);
  const rows = await adminQuery<{ id: string }>(`SELECT t.id FROM transactions t WHERE ${where} ORDER BY ${orderSql(filters.ordering)}`, values);
  return rows.map((r) => r.id);
}

const queries = (): Array<Record<string, string>> => [
  {},
  { book: books[1]! },
  { ordering: 'date' },
  { type: 'expense' },
  { category: 'food', ordering: '-date' },
  { category: 'Food', type: 'income', book: books[0]! },
  { date_from: day(10), date_to: day(45) },
  { date_from: '2026-01-01', date_to: '2026-01-31', type: 'income' },
  { date_from: day(5), category: 'Rent' },
  { ordering: '-amount', search: 'o' },
  { ordering: 'created_at', payment_mode: 'cash' },
];

async function expectApiMatchesRecompute(pageSize: number): Promise<void> {
  const balances = await referenceBalances();
  for (const query of queries()) {
    const expected = await referenceList(query);
    const pages = Math.max(1, Math.ceil(expected.length / pageSize));
    // The first, the last and a middle page (deep pages are located from the totals).
    for (const page of new Set([1, Math.ceil(pages / 2), pages])) {
      const res = await invoke(list, { path: '/api/transactions/', token: alice.access, query: { ...query, page: String(page), page_size: String(pageSize) } });
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(res.body.count, JSON.stringify(query)).toBe(expected.length);
      const want = expected.slice((page - 1) * pageSize, page * pageSize);
      expect(res.body.results.map((t: { id: string }) => t.id), JSON.stringify({ query, page })).toEqual(want);
      for (const t of res.body.results as Array<{ id: string; balance_after: string }>) {
        expect(t.balance_after, `balance_after of ${t.id}`).toBe(balances.get(t.id));
      }
    }
    await expectSummary(query);
  }
  await expectExport(balances);
  await expectBookBalances();
}

async function expectSummary(query: Record<string, string>): Promise<void> {
  const { ordering: _o, ...filters } = query;
  const parsed = listTransactionsQuery.parse(filters);
  const { where, values } = aliceRows(parsed);
  const rows = await adminQuery<{ category: string; month: string; type: string; amount: string }>(
    `SELECT t.category, to_char(t.date, 'YYYY-MM') AS month, t.type, t.amount::text AS amount FROM transactions t WHERE ${where}`,
    values,
  );
  const total = { income: 0n, expense: 0n };
  const byCategory = new Map<string, { income: bigint; expense: bigint }>();
  const byMonth = new Map<string, { income: bigint; expense: bigint }>();
  for (const r of rows) {
    const kind = r.type as 'income' | 'expense';
    for (const [map, key] of [[byCategory, r.category], [byMonth, r.month]] as const) {
      const entry = map.get(key) ?? { income: 0n, expense: 0n };
      entry[kind] += toCents(r.amount);
      map.set(key, entry);
    }
    total[kind] += toCents(r.amount);
  }
  const res = await invoke(summary, { path: '/api/transactions/summary/', token: alice.access, query: filters });
  expect(res.status).toBe(200);
  const sort = <T extends { category?: string; month?: string }>(list: T[]) =>
    [...list].sort((a, b) => ((a.category ?? a.month)! < (b.category ?? b.month)! ? -1 : 1));
  expect(
    { ...res.body, by_category: sort(res.body.by_category), by_month: sort(res.body.by_month) },
    `summary ${JSON.stringify(filters)}`,
  ).toEqual({
    count: rows.length,
    total_income: money(total.income),
    total_expense: money(total.expense),
    balance: money(total.income - total.expense),
    // No transfers here (tests/integration/handlers/transfers-property.test.ts has them): zero.
    by_category: sort([...byCategory].map(([category, s]) => ({ category, income: money(s.income), expense: money(s.expense), ...NO_TRANSFERS }))),
    by_month: sort(
      [...byMonth].map(([month, s]) => ({ month, income: money(s.income), expense: money(s.expense), balance: money(s.income - s.expense), ...NO_TRANSFERS })),
    ),
    ...NO_TRANSFERS,
  });
}

async function expectExport(balances: Map<string, string>): Promise<void> {
  const query = { ordering: 'date', book: books[2]! };
  const res = await invoke(exportTx, { path: '/api/transactions/export/', token: alice.access, query });
  expect(res.status).toBe(200);
  const rows = parseCsv(res.raw!).slice(1);
  expect(rows.map((r) => r[0])).toEqual(await referenceList(query));
  for (const r of rows) expect(r[5], `export balance_after of ${r[0]}`).toBe(balances.get(r[0]!));
}

async function expectBookBalances(): Promise<void> {
  const want = await adminQuery<{ id: string; balance: string }>(
    `SELECT b.id, COALESCE(sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END), 0)::numeric(20, 2)::text AS balance
     FROM books b LEFT JOIN transactions t ON t.book_id = b.id WHERE b.id IN ${MEMBER_BOOKS} GROUP BY b.id`,
    [alice.id],
  );
  const res = await invoke(listBooks, { path: '/api/books/', token: alice.access });
  expect(res.status).toBe(200);
  const got = new Map((res.body.results as Array<{ id: string; balance: string }>).map((b) => [b.id, b.balance]));
  for (const b of want) expect(got.get(b.id), `balance of book ${b.id}`).toBe(b.balance);
}

describe('per-book totals against a full recompute', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('ledger');
    bob = await signUp('other');
    const made = [];
    for (const name of ['Trips', 'Savings']) {
      made.push(await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name } }));
    }
    const all = await invoke(listBooks, { path: '/api/books/', token: alice.access });
    books = [all.body.results[0].id, ...made.map((r) => r.body.id)];
    // Another user's rows on the same days, in a book he shares with alice (viewer): in her
    // figures (lists without ?book= merge her account's rows and his), and in another he does not.
    const bobBook = (await adminQuery<{ id: string }>('SELECT id FROM books WHERE user_id = $1', [bob.id]))[0]!.id;
    const bobOwn = await invoke(createBook, { method: 'POST', path: '/api/books/', token: bob.access, body: { name: 'Private' } });
    for (const book of [bobBook, bobOwn.body.id]) {
      await adminQuery(
        `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
         SELECT $1, $2, 'income', 7.77, 'Food', $3::date + (i % 60) FROM generate_series(1, 200) AS i`,
        [bob.id, book, day(0)],
      );
    }
    await addMember(bobBook, alice.id, 'viewer');
    // A book alice created, handed to bob, then was removed from: in her account, not in her figures.
    const handed = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: 'Handed on' } });
    hidden = handed.body.id;
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
       SELECT $1, $2, 'expense', 3.33, 'Food', $3::date + (i % 60) FROM generate_series(1, 100) AS i`,
      [alice.id, hidden, day(0)],
    );
    await adminQuery(`INSERT INTO book_members (book_id, user_id, role, status) VALUES ($1, $2, 'admin', 'active')`, [hidden, bob.id]);
    await adminQuery(
      `UPDATE book_members SET role = CASE WHEN user_id = $2 THEN 'owner' ELSE 'viewer' END,
                               status = CASE WHEN user_id = $2 THEN 'active' ELSE 'removed' END
       WHERE book_id = $1`,
      [hidden, bob.id],
    );
  });
  afterAll(() => expectNoAppConnections());

  it('stay exact through random writes, and every balance, page, summary and export agrees with the rows', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(stepArb, { minLength: 1, maxLength: 6 }), fc.integer({ min: 3, max: 40 }), async (steps, pageSize) => {
        await adminQuery('DELETE FROM transactions WHERE user_id = $1 AND book_id <> $2', [alice.id, hidden]);
        await expectTotalsExact();
        for (const step of steps) {
          await run(step);
          await expectTotalsExact();
        }
        await expectApiMatchesRecompute(pageSize);
      }),
      { numRuns: 12, endOnFailure: true },
    );
  }, 600_000);

  it('follows a deleted book, a deleted user and a TRUNCATE', async () => {
    const spare = await invoke(createBook, { method: 'POST', path: '/api/books/', token: bob.access, body: { name: 'Spare' } });
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, date) SELECT $1, $2, 'expense', 1.5, $3::date + i FROM generate_series(1, 50) AS i`,
      [bob.id, spare.body.id, day(0)],
    );
    await expectTotalsExact();
    await adminQuery(
      `WITH gone AS (DELETE FROM transactions WHERE book_id = $1) DELETE FROM books WHERE id = $1`,
      [spare.body.id],
    );
    await expectTotalsExact();
    await adminQuery('DELETE FROM users WHERE id = $1', [bob.id]);
    await expectTotalsExact();
    await adminQuery('TRUNCATE transactions CASCADE');
    expect(await adminQuery('SELECT 1 FROM book_totals')).toEqual([]);
  });
});
