import type { z } from 'zod';
import { accessCte, REFUSAL, refusalOf, type Caller } from '../auth/active-user.js';
import { recorder } from '../books/access.js';
import type { Db } from '../db.js';
import { keptStatements } from '../kept.js';
import { signedAmount } from '../sql.js';
import { filterSql, orderSql, unknownBookFilter } from './filters.js';
import { columns, lastChangedBy } from './queries.js';
import { transactionFiltersQuery, type Filters, type listedTransactionOutput } from './schema.js';
import { balanceAtSql, bookFoundSql, countSql, locateSql, monthStartSql, ownBooksSql, paramsOf, scopedRows, tallyFor } from './totals.js';

// Filtered, ordered transactions with each one's running balance, in ONE statement, reading
// the per-book totals (lib/transactions/totals.ts) instead of every earlier row of a book:
//   access  the caller's refusal (accessRefusal: a deleted or deactivated user, a revoked
//           token), NULL when allowed; while it is set, no entry is read;
//   own     the user's books in scope (whether ?book= is one of them);
//   meta    the filtered count, from the totals when the filters allow (else counted);
//   loc     for a deep page of a date-ordered list: the day (or month) it starts in, from the
//           totals, so OFFSET skips at most that day's rows (see locateSql);
//   page    the requested slice, straight off an index in the requested order;
//   ledger  for the lists apps open (newest first in ledger order, no filter that drops rows
//           of a book between two page rows: runOfLedger), per book on the page the balance
//           after its newest page row (the totals up to that day, minus the day's later rows);
//           each row's balance_after is that minus the page rows of its book before it (a
//           window over the page). One step per book. Any other page:
//   bounds  per (book, day) on the page, its first (or last) page row in ledger order;
//   days    the book's balance at each page day's start (or end): per (book, month) its balance
//           at the month's start (a few dozen total rows) + the month's day totals up to that day;
//   ledger  balance_after = that balance + a running sum (window function) over the book's
//           rows of that day between the boundary and the page's row, read in index order
//           (no sort). It covers ALL the
//           book's rows, not only the filtered ones: the balance is the book's, whatever the
//           filters and the page. For a newest-first page the sum runs back from the day's
//           end (page 1 reads just its own rows), otherwise forward from the day's start.
// The page rows pick their balances out of one jsonb map (id -> balance) instead of a join:
// with stale statistics (right after a bulk import) the planner chose a nested loop for a
// join of two CTEs. The map is MATERIALIZED: with a page estimated at one row, the planner
// otherwise recomputed it once per page row. Every step is a 1-row, per-(book, month) or per-(book, day) step.
// The ledger index does not hold user_id: the book ids come from the page, itself scoped to the user.

/**
 * A page row's complete attachments: an index-only count over attachments (transaction_id,
 * status), per page row (at most a page's worth), whatever the tables' sizes.
 */
const ATTACHMENT_COUNT = `(SELECT count(*) FROM attachments a WHERE a.transaction_id = p.id AND a.status = 'complete')::int`;

/**
 * The CTE `refs`: the page's recorders and last editors as one map (id -> {id, username}), one
 * index lookup per person instead of two per row (100 on a page of 50, a third of the list's
 * execution time). PEOPLE: the page rows' `created_by` and `updated_by` out of it.
 */
const REFS = `refs AS (
       SELECT jsonb_object_agg(u.id::text, jsonb_build_object('id', u.id, 'username', u.username)) AS people
       FROM users u WHERE u.id IN (SELECT ${recorder('page')} FROM page UNION SELECT ${lastChangedBy('page')} FROM page)
     )`;
const PEOPLE = {
  created_by: `refs.people -> (${recorder('p')})::text`,
  updated_by: `refs.people -> (${lastChangedBy('p')})::text`,
};

/** The export's rows also have their book's name, and no attachment count (not a CSV column). */
export type ListedTransaction = Omit<z.output<typeof listedTransactionOutput>, 'attachments'> & { attachments?: number; book_name?: string };

interface Slice {
  limit: number;
  offset: number;
  /** Adds `book_name` (the CSV export shows the book by name) and skips the count. */
  forExport?: boolean;
}

/** The statement listLedger sends (its text depends only on the shape of the filters and slice). */
export function listStatement(user: Caller, filters: Filters, slice: Slice): { text: string; values: unknown[] } {
  const values: unknown[] = [user.id];
  const param = paramsOf(values);
  const own = ownBooksSql('$1', filters, param);
  const { where: filtered } = filterSql(filters, values);
  // A refused caller's statement reads no entry: a condition on no column of the rows, which
  // PostgreSQL evaluates once, before reading any.
  const where = `${filtered} AND ${REFUSAL} IS NULL`;
  const tally = tallyFor(filters);
  const total = slice.forExport ? 'NULL' : countSql(filters, tally, () => scopedRows(where), param);
  const [limit, offset] = [param(slice.limit), param(slice.offset)];
  const first = filters.ordering[0];
  const byDate = first?.field === 'date';
  const newestFirst = byDate && first.descending;
  const locate = byDate && slice.offset > 0 ? locateSql(filters, tally, newestFirst, `${offset}::bigint`, param) : null;
  const page = pageSql({
    where: locate ? `${where} AND ${locate.pageCondition}` : where,
    book: filters.book ? param(filters.book) : undefined,
    order: filters.ordering,
    limit,
    offset: locate ? locate.offset : offset,
  });
  const ledger = runOfLedger(filters) ? RUN_LEDGER : dayLedger(newestFirst);
  const access = accessCte('$1', param(user.issuedAt));
  const text = `WITH ${access}, ${own}, ${locate ? `${locate.cte},` : ''} ${page}, ${REFS}, ${ledger.ctes}
     SELECT meta.total, meta.book_found, meta.refusal, ${columns('p', PEOPLE)}, ${ledger.balance} AS balance_after
            ${slice.forExport ? '' : `, ${ATTACHMENT_COUNT} AS attachments`}
            ${slice.forExport ? ', (SELECT b.name FROM books b WHERE b.id = p.book_id) AS book_name' : ''}
     FROM (SELECT ${total} AS total, ${bookFoundSql(filters)} AS book_found, ${REFUSAL} AS refusal) AS meta
     LEFT JOIN (page p CROSS JOIN ledger CROSS JOIN refs) ON meta.refusal IS NULL
     ORDER BY ${orderSql(filters.ordering, 'p.')}`;
  return { text, values };
}

/**
 * The first page of the whole list and of one book's (what the apps open on, and every list
 * after a write), kept by the server (lib/kept.ts): planning is half the list's database CPU.
 */
export const KEPT_LISTS = keptStatements('transaction list, first page', () => {
  const sample = { id: 1, issuedAt: 0 };
  const firstPage = { limit: 1, offset: 0 };
  return [
    listStatement(sample, transactionFiltersQuery.parse({}), firstPage).text,
    listStatement(sample, transactionFiltersQuery.parse({ book: '00000000-0000-4000-8000-000000000000' }), firstPage).text,
  ];
});

export async function listLedger(
  db: Db,
  user: Caller,
  filters: Filters,
  slice: Slice,
): Promise<{ count: number; rows: ListedTransaction[] }> {
  const { text, values } = listStatement(user, filters, slice);
  const { rows } = await KEPT_LISTS.query<ListedTransaction & { total: string; book_found: boolean; refusal: string | null }>(db, text, values);
  const head = rows[0]!;
  const refused = refusalOf(head.refusal);
  if (refused) throw refused;
  if (!head.book_found) throw unknownBookFilter();
  const count = Number(head.total ?? 0);
  const listed = head.id === null ? [] : rows.map(({ total: _t, book_found: _b, refusal: _r, ...row }) => row as ListedTransaction);
  return { count, rows: listed };
}

/**
 * The CTE `page`: the requested slice of the filtered rows of the books in `own`, in order,
 * each branch straight off an index in that order (no sort of a book's rows):
 *   mine    the caller's own account (user_id = $1): the list index (user_id, date DESC, ...) as
 *           before shared books, so a user nobody shared with gets the plan and cost of before.
 *           Skipped when no book in scope is of their account (a shared book's ?book=).
 *           Without ?book=, also skipped when their account holds a book they are no longer a
 *           member of (created, handed on, then removed): a one-time filter, rather than a
 *           `book_id <> ALL (…)` filter the planner cannot estimate (with one, it sorted the
 *           whole account instead of reading the index in order).
 *   shared  each book in scope of another account (and, in that rare case, each of their own),
 *           read off the book's ledger index backwards with a per-book limit: at most (page
 *           end) rows per book, whatever the sizes of the book and of its account. No
 *           `t.user_id = own.account` (a book's entries are all in its account anyway): with
 *           it the planner ANDed a bitmap of the account's rows, every row of an owner's
 *           1,000,000-row account (4,000 buffers, 39 ms) for a member's list of a 40-row book.
 * then merged, in order, and cut to the page. Each branch is planned on every call, used or not
 * (about 0.3 ms each): two, not three.
 */
function pageSql(p: { where: string; book?: string; order: Filters['ordering']; limit: string; offset: string }): string {
  const order = orderSql(p.order);
  const upto = `${p.limit}::bigint + ${p.offset}::bigint`;
  const ownAccount = 'EXISTS (SELECT 1 FROM own WHERE own.account = $1)';
  const branch = (condition: string) => `(SELECT t.* FROM transactions t WHERE ${condition} AND ${p.where} ORDER BY ${order} LIMIT ${upto})`;
  // Without ?book=, `mine` needs no `ownAccount`: an account none of whose books the caller is
  // a member of has a hidden book, or no rows.
  const hidden = '(SELECT hidden FROM scope)';
  const mine = p.book
    ? branch(`t.user_id = $1 AND t.book_id = ${p.book}::uuid AND ${ownAccount}`)
    : branch(`t.user_id = $1 AND NOT ${hidden}`);
  const scope = p.book
    ? ''
    : `scope AS MATERIALIZED (
       SELECT EXISTS (SELECT 1 FROM books b WHERE b.user_id = $1 AND NOT EXISTS (SELECT 1 FROM own WHERE own.id = b.id)) AS hidden
     ), `;
  return `${scope}page AS (
       SELECT merged.* FROM (
         ${mine}
         UNION ALL
         (SELECT shared.* FROM own CROSS JOIN LATERAL (
            SELECT t.* FROM transactions t WHERE t.book_id = own.id AND ${p.where}
            ORDER BY ${order} LIMIT ${upto}) AS shared
          WHERE own.account <> $1${p.book ? '' : ` OR ${hidden}`})
       ) AS merged
       ORDER BY ${orderSql(p.order, 'merged.')} LIMIT ${p.limit} OFFSET ${p.offset}
     )`;
}

/**
 * Whether each book's rows on the page are consecutive in the book's ledger, so that the page's
 * own rows give their balances from one per book: newest first in ledger order (date, created_at,
 * id; the default ordering) and no filter that leaves out rows of a book between two page rows
 * (the dates leave out only rows before or after them all; book leaves out other books).
 */
function runOfLedger(filters: Filters): boolean {
  const [first, second, ...rest] = filters.ordering;
  const ledgerOrder = first?.field === 'date' && first.descending && rest.length === 0
    && (!second || (second.field === 'created_at' && second.descending));
  return ledgerOrder && filters.type === undefined && filters.category === undefined && filters.payment_mode === undefined
    && filters.min_amount === undefined && filters.max_amount === undefined && !filters.exclude_transfers && !filters.search;
}

interface Ledger {
  /** CTEs, ending in `ledger` */
  ctes: string;
  /** a page row's balance_after (as text), from `ledger` and `p` */
  balance: string;
}

/**
 * The balances of a page that is a run of each of its books' ledgers (runOfLedger): the CTE
 * `ledger` holds, per book on the page, the balance after its newest page row (the balance at the
 * end of that row's day, from the totals, minus the day's rows after it: none on a first page).
 * A page row's balance is that minus the page rows of its book before it, a window over the
 * page. One step per book, not per (book, day): a page of a book with an entry or two a day
 * spans ~50 days.
 */
const RUN_LEDGER: Ledger = {
  ctes: `ledger AS MATERIALIZED (
       SELECT COALESCE(jsonb_object_agg(head.book_id::text, (${balanceAtSql('head.book_id', 'head.date', true)}
         - COALESCE((SELECT sum(${signedAmount('l')}) FROM transactions l
                     WHERE l.book_id = head.book_id AND l.date = head.date AND (l.created_at, l.id) > (head.created_at, head.id)), 0))::text), '{}') AS balances
       FROM (SELECT DISTINCT ON (book_id) book_id, date, created_at, id FROM page ORDER BY book_id, date DESC, created_at DESC, id DESC) AS head
     )`,
  balance: `((ledger.balances ->> p.book_id::text)::numeric - COALESCE(sum(${signedAmount('p')}) OVER (
       PARTITION BY p.book_id ORDER BY p.date DESC, p.created_at DESC, p.id DESC ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))::text`,
};

/**
 * The balances of any other page: the CTEs `page_ids`, `bounds`, `days` and `ledger` (balances of the page rows, by id).
 *   bounds  per (book, day) on the page, the row the day's running sum starts or ends at;
 *   days    per (book, month) of those days, the balance at the month's start (its years and
 *           months before, from the totals), then the month's day totals in order (at most 31
 *           rows, off book_totals' key) summed up to each day: the balance at each page day's
 *           start or end. Once per (book, month), not once per day: a page of a book with an
 *           entry or two a day spans ~50 days and one or two months;
 *   ledger  each day's balance + a running sum over the book's rows of that day between the
 *           boundary and the page row.
 * `fromEnd`: sum back from the end of each day (the balance after the day, minus the rows after
 * the page row); otherwise forward from its start.
 */
function dayLedger(fromEnd: boolean): Ledger {
  const direction = fromEnd ? '' : ' DESC';
  const window = fromEnd
    ? `sum(${signedAmount('l')}) OVER (ORDER BY l.created_at DESC, l.id DESC ROWS UNBOUNDED PRECEDING) - ${signedAmount('l')}`
    : `sum(${signedAmount('l')}) OVER (ORDER BY l.created_at, l.id ROWS UNBOUNDED PRECEDING)`;
  const ctes = `page_ids AS (
       SELECT jsonb_object_agg(id::text, true) AS ids FROM page
     ), bounds AS (
       SELECT DISTINCT ON (book_id, date) book_id, date, created_at, id FROM page
       ORDER BY book_id, date, created_at${direction}, id${direction}
     ), days AS MATERIALIZED (
       SELECT m.book_id, d.starts AS date, start.total + d.upto${fromEnd ? '' : ' - d.net'} AS total
       FROM (SELECT DISTINCT book_id, date_trunc('month', date::timestamp)::date AS month FROM bounds) AS m
       -- OFFSET 0 keeps these per-(book, month) steps.
       CROSS JOIN LATERAL (SELECT ${monthStartSql('m.book_id', 'm.month')} AS total OFFSET 0) AS start
       CROSS JOIN LATERAL (
         SELECT a.starts, a.net, sum(a.net) OVER (ORDER BY a.starts ROWS UNBOUNDED PRECEDING) AS upto
         FROM book_totals a
         WHERE a.book_id = m.book_id AND a.grain = 0 AND a.starts >= m.month AND a.starts < (m.month + interval '1 month')::date
         OFFSET 0
       ) AS d
     ), ledger AS MATERIALIZED (
       SELECT COALESCE(jsonb_object_agg(w.id::text, (${fromEnd ? 'base.total - w.running' : 'base.total + w.running'})::text), '{}') AS balances
       FROM bounds b
       CROSS JOIN LATERAL (SELECT days.total FROM days WHERE days.book_id = b.book_id AND days.date = b.date) AS base
       CROSS JOIN LATERAL (
         SELECT l.id, ${window} AS running
         FROM transactions l
         WHERE l.book_id = b.book_id AND l.date = b.date AND (l.created_at, l.id) ${fromEnd ? '>=' : '<='} (b.created_at, b.id)
       ) AS w
       WHERE (SELECT ids FROM page_ids) ? w.id::text
     )`;
  return { ctes, balance: 'ledger.balances ->> p.id::text' };
}
