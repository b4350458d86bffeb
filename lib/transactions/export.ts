import { csvLine, type Cell } from '../csv.js';
import type { Db } from '../db.js';
import { BadRequest } from '../errors.js';
import { listLedger, type ListedTransaction } from './list.js';
import type { Filters } from './schema.js';

// GET /api/transactions/export/: the filtered transactions as one CSV response. A Lambda
// response (hence this body) is limited to 6 MB, so the export is capped by rows and by bytes;
// past either cap the client is told to narrow the filters.

export const EXPORT_MAX_ROWS = 10_000;
/** Leaves room under Lambda's 6 MB for headers and the JSON escaping of the body. */
export const EXPORT_MAX_BYTES = 5 * 1024 * 1024;

const HEADER = ['id', 'date', 'book', 'type', 'amount', 'balance_after', 'category', 'description', 'payment_mode', 'created_at', 'updated_at'];

const tooLarge = () =>
  new BadRequest(
    `The export is limited to ${EXPORT_MAX_ROWS} rows (5 MB). Narrow the filters, e.g. with date_from and date_to.`,
  );

/** One statement; one row past the cap tells "too many" without fetching them all. */
export async function exportRows(db: Db, userId: number, filters: Filters): Promise<ListedTransaction[]> {
  const { rows } = await listLedger(db, userId, filters, { limit: EXPORT_MAX_ROWS + 1, offset: 0, forExport: true });
  if (rows.length > EXPORT_MAX_ROWS) throw tooLarge();
  return rows;
}

/** CPU only: called after the connection is released. */
export function toCsv(rows: readonly ListedTransaction[]): string {
  let csv = csvLine(HEADER.map((value) => ({ value })));
  for (const t of rows) {
    const cells: Cell[] = [
      { value: t.id },
      { value: t.date },
      { value: t.book_name ?? '', text: true },
      { value: t.type },
      { value: t.amount },
      { value: t.balance_after },
      { value: t.category, text: true },
      { value: t.description, text: true },
      { value: t.payment_mode },
      { value: t.created_at },
      { value: t.updated_at },
    ];
    csv += csvLine(cells);
  }
  if (Buffer.byteLength(csv) > EXPORT_MAX_BYTES) throw tooLarge();
  return csv;
}
