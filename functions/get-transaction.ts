import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { findTransaction } from '../lib/transactions/queries.js';

export const handler = api(TRANSACTION_ROUTES.getTransaction, (req) => withConnection((db) => findTransaction(db, req.caller, req.id), req.connection));
