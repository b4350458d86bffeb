import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { findTransaction, insertTransaction } from '../lib/transactions/queries.js';
import { createTransactionBody } from '../lib/transactions/schema.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second row.
// createOnce chooses the id, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api({ body: createTransactionBody, status: 201 }, (req) =>
  createOnce(
    req,
    (id) => idempotentCreate(req, 'POST /api/transactions', 201, (db, save) => insertTransaction(db, req.userId, req.body, save, id)),
    (db, id) => findTransaction(db, req.userId, id),
  ),
);
