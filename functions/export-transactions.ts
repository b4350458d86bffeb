import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { csvAttachment } from '../lib/http/responses.js';
import { exportRows, toCsv } from '../lib/transactions/export.js';
import { transactionFiltersQuery } from '../lib/transactions/schema.js';

// The list's filters and ordering, as CSV; formatted after the connection is released.
export const handler = api({ query: transactionFiltersQuery }, async (req) => {
  const rows = await withConnection((db) => exportRows(db, req.userId, req.query), req);
  return csvAttachment(toCsv(rows), 'transactions.csv');
});
