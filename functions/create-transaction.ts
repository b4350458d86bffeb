import { api } from '../lib/http/api.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { insertTransaction } from '../lib/transactions/queries.js';
import { createBody } from '../lib/transactions/schema.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second row.
export const handler = api({ body: createBody, status: 201 }, (req) =>
  idempotentCreate(req, 'POST /api/transactions', 201, (db, save) => insertTransaction(db, req.userId, req.body, save)),
);
