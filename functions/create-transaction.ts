import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { insertTransaction } from '../lib/transactions/queries.js';
import { createBody } from '../lib/transactions/schema.js';

export const handler = api({ body: createBody, status: 201 }, (req) =>
  withConnection((db) => insertTransaction(db, req.userId, req.body), req),
);
