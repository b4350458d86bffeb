import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { findTransaction, insertTransaction } from '../lib/transactions/queries.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second row.
// createOnce chooses the id, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api(TRANSACTION_ROUTES.createTransaction, (req) =>
  createOnce(
    req.connection,
    (id) => idempotentCreate(req, (db, save) => insertTransaction(db, req.caller, req.body, save, id)),
    (db, id) => findTransaction(db, req.caller, id),
  ),
);
