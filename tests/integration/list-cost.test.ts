import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as list } from '../../functions/list-transactions.js';
import { listStatement } from '../../lib/transactions/list.js';
import { transactionFiltersQuery } from '../../lib/transactions/schema.js';
import { signUp } from '../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../support/db.js';
import { invoke } from '../support/events.js';
import { addMember, defaultBookOf } from '../support/sharing.js';

// Constant-cost reads for a book's members: what a member's first page costs does not grow with
// the size of the account the book lives in. The planner once read a shared book's entries
// through a bitmap of its owner's whole account (every entry of a 1,000,000-row account, 39 ms,
// for a member's page of a 40-row book). Buffers, not time: the same on any machine.

type User = Awaited<ReturnType<typeof signUp>>;

/** Shared buffers the list statement touches for `user` (EXPLAIN ANALYZE, BUFFERS), planning left out. */
async function buffersOfList(user: User, filters: Record<string, string>): Promise<number> {
  const { text, values } = listStatement({ id: user.id, issuedAt: Math.floor(Date.now() / 1000) }, transactionFiltersQuery.parse(filters), { limit: 50, offset: 0 });
  const [row] = await adminQuery<{ 'QUERY PLAN': Array<{ Plan: Record<string, number> }> }>(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
  const plan = row!['QUERY PLAN'][0]!.Plan;
  return plan['Shared Hit Blocks']! + plan['Shared Read Blocks']!;
}

describe("a member's list of a shared book", () => {
  let owner: User;
  let member: User;
  let shared: string;

  beforeAll(async () => {
    await resetData();
    [owner, member] = await Promise.all([signUp('owner'), signUp('member')]);
    const [book] = await adminQuery<{ id: string }>(`INSERT INTO books (user_id, name, currency) VALUES ($1, 'shared', 'INR') RETURNING id`, [owner.id]);
    shared = book!.id;
    await addMember(shared, member.id, 'operator');
    // Other accounts, as on any server: the planner's estimate for "the entries of an account"
    // is the table's rows over its accounts, which made the owner's account look small.
    await adminQuery(`INSERT INTO users (username, password_hash) SELECT 'cost' || i || '_' || $1, 'x' FROM generate_series(1, 60) AS i`, [Date.now()]);
    await adminQuery(`INSERT INTO books (user_id, name, currency, is_default) SELECT id, 'Cashbook', 'INR', true FROM users u WHERE username LIKE 'cost%' AND NOT EXISTS (SELECT 1 FROM books b WHERE b.user_id = u.id)`);
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
       SELECT b.user_id, b.id, 'expense', i, 'seed', DATE '2026-01-01' + i FROM books b JOIN users u ON u.id = b.user_id, generate_series(1, 100) AS i
       WHERE u.username LIKE 'cost%'`,
    );
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date, created_by, updated_by)
       SELECT $1, $2, 'expense', i, 'shared', DATE '2026-11-01' + i % 20, $3, $3 FROM generate_series(1, 40) AS i`,
      [owner.id, shared, member.id],
    );
  }, 120_000);
  afterAll(() => expectNoAppConnections());

  it("costs the same whether the owner's account holds 40 entries or 100,040", async () => {
    await adminQuery('ANALYZE transactions');
    const small = { whole: await buffersOfList(member, {}), book: await buffersOfList(member, { book: shared }) };
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
       SELECT $1, $2, 'income', 1 + i % 500, 'bulk', DATE '2020-01-01' + i % 2000 FROM generate_series(1, 100000) AS i`,
      [owner.id, await defaultBookOf(owner.id)],
    );
    await adminQuery('ANALYZE transactions');
    const large = { whole: await buffersOfList(member, {}), book: await buffersOfList(member, { book: shared }) };
    // The owner's account index alone is ~300 pages at 100,000 entries.
    expect(large.whole).toBeLessThan(small.whole * 1.5 + 20);
    expect(large.book).toBeLessThan(small.book * 1.5 + 20);

    const res = await invoke(list, { path: '/api/transactions/', token: member.access, query: { book: shared } });
    expect(res.status).toBe(200);
    expect((res.body as { count: number }).count).toBe(40);
  }, 120_000);
});
