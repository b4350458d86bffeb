import { z } from 'zod';
import { activeUser, type Caller } from '../auth/active-user.js';
import { memberBooks } from '../books/access.js';
import { getConfig } from '../config.js';
import { isCalendarDate } from '../dates.js';
import type { Db } from '../db.js';
import { NotFound, StatementTooLarge } from '../errors.js';
import { money } from '../sql.js';
import { bounded } from '../validation.js';
import { balanceAtSql } from '../transactions/totals.js';
import type { StatementEntryRow, StatementRows } from './statement.js';

// Reading a statement: ONE statement, bounded. The book (404 unless the caller is an active
// member of it: every role may read), its
// balance before the period (the ledger totals: a few dozen rows of book_totals, whatever the
// book's size), how many entries the period holds (the day totals: one row per day), and —
// only when that count is within STATEMENT_MAX_ROWS (lib/config.ts) — the entries themselves,
// in ledger order off the book's ledger index. A period past the limit is refused without
// reading an entry. The connection is released before anything is rendered
// (functions/get-book-statement-*.ts).

/** Bytes of a rendered file: base64 makes 4 MB 5.3 MB, within Lambda's 6 MB response. */
export const STATEMENT_MAX_BYTES = 4 * 1024 * 1024;

const statementDate = () =>
  z.string().max(10, bounded('Enter a valid date.')).refine(isCalendarDate, 'Enter a valid date.').meta({ format: 'date' }).optional();

/** `?date_after=&date_before=`: both inclusive, both optional (django-filter's DateFromToRangeFilter). */
export const statementQuery = z.preprocess(
  // django-filter skips a filter given an empty value; so do we.
  (input) =>
    input && typeof input === 'object' ? Object.fromEntries(Object.entries(input).filter(([, v]) => v !== '')) : input,
  z
    .looseObject({
      date_after: statementDate().meta({ description: 'First day of the period (inclusive); omitted: from the first entry' }),
      date_before: statementDate().meta({ description: 'Last day of the period (inclusive); omitted: up to the last entry' }),
    })
    .refine((q) => !q.date_after || !q.date_before || q.date_after <= q.date_before, {
      path: ['date_before'],
      message: 'Must not be before date_after.',
    }),
);
export type StatementQuery = z.output<typeof statementQuery>;

export const tooManyEntries = (entries: number, limit: number) =>
  new StatementTooLarge(
    `This period holds ${entries} entries; a statement is limited to ${limit} entries (STATEMENT_MAX_ROWS). ` +
      'Narrow the period with date_after and date_before.',
  );

export const tooLarge = () =>
  new StatementTooLarge(
    `The statement would be larger than ${STATEMENT_MAX_BYTES / 1024 / 1024} MB. Narrow the period with date_after and date_before.`,
  );

interface Row {
  name: string;
  currency: string;
  opening: string;
  entries_in_period: string;
  entries: Array<[string, 'income' | 'expense', string, string, string, string]> | null;
}

export async function readStatement(db: Db, user: Caller, bookId: string, query: StatementQuery): Promise<StatementRows> {
  const limit = getConfig().statements.maxRows;
  const values: unknown[] = [bookId, user.id, user.issuedAt, limit];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const after = query.date_after ? `${param(query.date_after)}::date` : undefined;
  const before = query.date_before ? `${param(query.date_before)}::date` : undefined;
  const dayRange = [after && `a.starts >= ${after}`, before && `a.starts <= ${before}`].filter(Boolean);
  // Entries in the period: day rows in the range, or the year rows when there is no range.
  const counted = dayRange.length ? ['a.grain = 0', ...dayRange] : ['a.grain = 2'];
  const entryRange = [after && `t.date >= ${after}`, before && `t.date <= ${before}`].filter(Boolean);
  const { rows } = await db.query<Row>(
    `WITH book AS (SELECT b.id, b.name, b.currency FROM books b WHERE b.id = $1 AND b.id IN ${memberBooks('$2')}),
     meta AS (
       SELECT (SELECT COALESCE(sum(a.entries), 0) FROM book_totals a WHERE a.book_id = book.id AND ${counted.join(' AND ')}) AS n
       FROM book
     )
     SELECT book.name, book.currency, meta.n AS entries_in_period,
            ${after ? money(balanceAtSql('book.id', after, false)) : `'0.00'`} AS opening,
            -- A subplan, run only when the count is within the limit: past it, no entry is read.
            CASE WHEN meta.n <= $4::int THEN (
              SELECT COALESCE(json_agg(json_build_array(e.date, e.type, e.amount, e.category, e.description, e.payment_mode)
                                       ORDER BY e.date, e.created_at, e.id), '[]')
              FROM (
                SELECT t.date, t.created_at, t.id, t.type, t.amount::text AS amount, t.category, t.description, t.payment_mode
                FROM transactions t
                WHERE t.book_id = book.id${entryRange.map((c) => ` AND ${c}`).join('')}
                ORDER BY t.date, t.created_at, t.id
                LIMIT $4::int + 1
              ) AS e
            ) END AS entries
     FROM book CROSS JOIN meta
     WHERE ${activeUser('$2', '$3')}`,
    values,
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (!row.entries || row.entries.length > limit) throw tooManyEntries(Number(row.entries_in_period), limit);
  return {
    book: { name: row.name, currency: row.currency },
    period: { from: query.date_after ?? null, to: query.date_before ?? null },
    opening: row.opening,
    entries: row.entries.map(
      ([date, type, amount, category, description, payment_mode]): StatementEntryRow => ({ date, type, amount, category, description, payment_mode }),
    ),
  };
}
