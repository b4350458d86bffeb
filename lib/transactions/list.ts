import type { Db } from '../db.js';
import { signedAmount } from '../sql.js';
import { filterSql, orderSql } from './filters.js';
import { ValidationError } from '../errors.js';
import { columns, type Transaction } from './queries.js';
import type { Filters } from './schema.js';

// Filtered, ordered transactions with each one's running balance, in ONE statement:
//   meta   the filtered count (index scan, no rows fetched) and whether ?book= is the user's;
//   page   the requested slice, straight off an index in the requested order;
//   ledger the running balance of the books on the page, over ALL their rows (not only the
//          filtered ones) in ledger order (date, created_at, id), by a window function.

export interface ListedTransaction extends Transaction {
  balance_after: string;
  book_name?: string;
}

interface Slice {
  limit: number;
  offset: number;
  /** Adds `book_name` (the CSV export shows the book by name). */
  bookName?: boolean;
}

export async function listLedger(
  db: Db,
  userId: string,
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
     ), ledger AS (
       SELECT l.id, sum(${signedAmount('l')}) OVER (
                PARTITION BY l.book_id ORDER BY l.date, l.created_at, l.id
                ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS balance_after
       FROM transactions l
       WHERE l.user_id = $1 AND l.book_id IN (SELECT DISTINCT book_id FROM page)
     )
     SELECT meta.total, meta.book_found, ${columns('p')}, l.balance_after::text AS balance_after
            ${slice.bookName ? ', b.name AS book_name' : ''}
     FROM (SELECT (SELECT count(*) FROM transactions t WHERE ${where}) AS total, ${bookCheck} AS book_found) AS meta
     LEFT JOIN (page p JOIN ledger l ON l.id = p.id ${slice.bookName ? 'JOIN books b ON b.id = p.book_id' : ''}) ON true
     ORDER BY ${orderSql(filters.ordering, 'p.')}`,
    values,
  );
  const first = rows[0]!;
  if (!first.book_found) throw unknownBookFilter();
  const count = Number(first.total);
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
