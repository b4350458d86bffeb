import type { Db } from '../db.js';
import { signedAmount } from '../sql.js';
import { filterSql, orderSql } from './filters.js';
import { ValidationError } from '../errors.js';
import { columns, type Transaction } from './queries.js';
import type { Filters } from './schema.js';

// Filtered, ordered transactions with each one's running balance, in ONE statement:
//   meta    the filtered count (index-only scan) and whether ?book= is one of the user's books;
//   page    the requested slice, straight off an index in the requested order;
//   lo, hi  per book on the page, its first and last page row in ledger order (date, created_at, id);
//   ledger  balance_after = (sum of the book's rows before `lo`, an index-only aggregate)
//           + a running sum (window function) over the book's rows from `lo` to `hi`, read in
//           index order (no sort). It covers ALL the book's rows in that range, not only the
//           filtered ones: the balance is the book's, whatever the filters and the page.
// The page rows pick their balances out of one jsonb map (id -> balance) instead of a join:
// with stale statistics (right after a bulk import) the planner chose a nested loop for a
// join of two CTEs, 10,000 x 10,000 rows for an export. Every step here is a 1-row or
// per-book step, whatever the estimates.
// The book ids come from the page, itself scoped to the user; the ledger index does not hold
// user_id, and adding it as a condition would cost a heap visit per row.

export interface ListedTransaction extends Transaction {
  balance_after: string;
  book_name?: string;
}

interface Slice {
  limit: number;
  offset: number;
  /** Adds `book_name` (the CSV export shows the book by name) and skips the count. */
  forExport?: boolean;
}

export async function listLedger(
  db: Db,
  userId: number,
  filters: Filters,
  slice: Slice,
): Promise<{ count: number; rows: ListedTransaction[] }> {
  const { where, values } = filterSql(userId, filters);
  const bookCheck = bookCheckSql(filters, values);
  values.push(slice.limit, slice.offset);
  const [limit, offset] = [values.length - 1, values.length];
  const { rows } = await db.query<ListedTransaction & { total: string; book_found: boolean }>(
    `WITH page AS (
       SELECT t.* FROM transactions t WHERE ${where}
       ORDER BY ${orderSql(filters.ordering)} LIMIT $${limit} OFFSET $${offset}
     ), page_ids AS (
       SELECT jsonb_object_agg(id::text, true) AS ids FROM page
     ), lo AS (
       SELECT DISTINCT ON (book_id) book_id, date, created_at, id FROM page ORDER BY book_id, date, created_at, id
     ), hi AS (
       SELECT DISTINCT ON (book_id) book_id, date, created_at, id FROM page
       ORDER BY book_id, date DESC, created_at DESC, id DESC
     ), ledger AS (
       SELECT COALESCE(jsonb_object_agg(w.id::text, (before.total + w.running)::text), '{}') AS balances
       FROM lo JOIN hi USING (book_id)
       CROSS JOIN LATERAL (
         SELECT COALESCE(sum(${signedAmount('l')}), 0) AS total FROM transactions l
         WHERE l.book_id = lo.book_id AND (l.date, l.created_at, l.id) < (lo.date, lo.created_at, lo.id)
       ) AS before
       CROSS JOIN LATERAL (
         SELECT l.id, sum(${signedAmount('l')}) OVER (ORDER BY l.date, l.created_at, l.id ROWS UNBOUNDED PRECEDING) AS running
         FROM transactions l
         WHERE l.book_id = lo.book_id
           AND (l.date, l.created_at, l.id) >= (lo.date, lo.created_at, lo.id)
           AND (l.date, l.created_at, l.id) <= (hi.date, hi.created_at, hi.id)
       ) AS w
       WHERE (SELECT ids FROM page_ids) ? w.id::text
     )
     SELECT meta.total, meta.book_found, ${columns('p')}, ledger.balances ->> p.id::text AS balance_after
            ${slice.forExport ? ', (SELECT b.name FROM books b WHERE b.id = p.book_id) AS book_name' : ''}
     FROM (SELECT ${slice.forExport ? 'NULL' : `(SELECT count(*) FROM transactions t WHERE ${where})`} AS total, ${bookCheck} AS book_found) AS meta
     LEFT JOIN (page p CROSS JOIN ledger) ON true
     ORDER BY ${orderSql(filters.ordering, 'p.')}`,
    values,
  );
  const first = rows[0]!;
  if (!first.book_found) throw unknownBookFilter();
  const count = Number(first.total ?? 0);
  const listed = first.id === null ? [] : rows.map(({ total: _t, book_found: _b, ...row }) => row as ListedTransaction);
  return { count, rows: listed };
}

/** django-filter's ModelChoiceFilter message: the same for a missing book and another user's. */
export const unknownBookFilter = () =>
  new ValidationError({ book: ['Select a valid choice. That choice is not one of the available choices.'] });

/** SQL saying whether `?book=` (already a parameter in `values`) is one of the user's books. */
export function bookCheckSql(filters: Filters, values: unknown[]): string {
  if (!filters.book) return 'true';
  return `EXISTS (SELECT 1 FROM books WHERE id = $${values.indexOf(filters.book) + 1} AND user_id = $1)`;
}
