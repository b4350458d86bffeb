import { randomUUID } from 'node:crypto';
import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { findTransaction, insertTransaction } from '../lib/transactions/queries.js';
import { createBody } from '../lib/transactions/schema.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second row.
// The id is chosen here, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api({ body: createBody, status: 201 }, (req) => {
  const id = randomUUID();
  return createOnce(
    () => idempotentCreate(req, 'POST /api/transactions', 201, (db, save) => insertTransaction(db, req.userId, req.body, save, id)),
    (db) => findTransaction(db, req.userId, id),
    req,
  );
});
