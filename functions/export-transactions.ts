import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { csvAttachment } from '../lib/http/responses.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { exportRows, toCsv } from '../lib/transactions/export.js';

// The list's filters and ordering, as CSV; formatted after the connection is released.
export const handler = api(TRANSACTION_ROUTES.exportTransactions, async (req) => {
  const rows = await withConnection((db) => exportRows(db, req.caller, req.query), req.connection);
  return csvAttachment(toCsv(rows), 'transactions.csv');
});
