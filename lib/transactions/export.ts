import type { Caller } from '../auth/active-user.js';
import { csvLine, type Cell } from '../csv.js';
import type { Db } from '../db.js';
import { BadRequest } from '../errors.js';
import { listLedger, type ListedTransaction } from './list.js';
import type { Filters, listedTransactionOutput } from './schema.js';

// GET /api/transactions/export/: the filtered transactions as one CSV response. A Lambda
// response (hence this body) is limited to 6 MB, so the export is capped by rows and by bytes;
// past either cap the client is told to narrow the filters.

export const EXPORT_MAX_ROWS = 10_000;
/** Leaves room under Lambda's 6 MB for headers and the JSON escaping of the body. */
export const EXPORT_MAX_BYTES = 5 * 1024 * 1024;

/**
 * One column per field of a listed transaction, in the export's column order (a spreadsheet or
 * script may read by position); the book by its name. User text is neutralised (lib/csv.ts).
 */
const CSV_COLUMNS: Record<Exclude<keyof typeof listedTransactionOutput.shape, 'attachments'>, (t: ListedTransaction) => Cell> = {
  id: (t) => ({ value: t.id }),
  date: (t) => ({ value: t.date }),
  book: (t) => ({ value: t.book_name ?? '', text: true }),
  type: (t) => ({ value: t.type }),
  amount: (t) => ({ value: t.amount }),
  balance_after: (t) => ({ value: t.balance_after }),
  category: (t) => ({ value: t.category, text: true }),
  description: (t) => ({ value: t.description, text: true }),
  payment_mode: (t) => ({ value: t.payment_mode }),
  created_at: (t) => ({ value: t.created_at }),
  updated_at: (t) => ({ value: t.updated_at }),
  // Last: the columns before it kept their positions when transfers came.
  transfer: (t) => ({ value: t.transfer ?? '' }),
  // Who recorded and last changed the entry (shared books), by username; empty for a deleted account.
  created_by: (t) => ({ value: t.created_by?.username ?? '', text: true }),
  updated_by: (t) => ({ value: t.updated_by?.username ?? '', text: true }),
};
const HEADER = csvLine(Object.keys(CSV_COLUMNS).map((value) => ({ value })));
const cellsOf = (t: ListedTransaction) => Object.values(CSV_COLUMNS).map((cell) => cell(t));

const tooLarge = () =>
  new BadRequest(
    `The export is limited to ${EXPORT_MAX_ROWS} rows (5 MB). Narrow the filters, e.g. with date_from and date_to.`,
  );

/** One statement; one row past the cap tells "too many" without fetching them all. */
export async function exportRows(db: Db, user: Caller, filters: Filters): Promise<ListedTransaction[]> {
  const { rows } = await listLedger(db, user, filters, { limit: EXPORT_MAX_ROWS + 1, offset: 0, forExport: true });
  if (rows.length > EXPORT_MAX_ROWS) throw tooLarge();
  return rows;
}

/** CPU only: called after the connection is released. */
export function toCsv(rows: readonly ListedTransaction[]): string {
  let csv = HEADER;
  for (const t of rows) csv += csvLine(cellsOf(t));
  if (Buffer.byteLength(csv) > EXPORT_MAX_BYTES) throw tooLarge();
  return csv;
}
