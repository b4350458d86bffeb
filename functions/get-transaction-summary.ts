import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { summarize } from '../lib/transactions/summary.js';

// The list's filters; one SQL statement.
export const handler = api(TRANSACTION_ROUTES.getTransactionSummary, (req) =>
  withConnection((db) => summarize(db, req.caller, req.query), req.connection),
);
