import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { updateTransaction } from '../lib/transactions/queries.js';

export const handler = api(TRANSACTION_ROUTES.updateTransaction, (req) =>
  withConnection((db) => updateTransaction(db, req.caller, req.id, req.body), req.connection),
);
