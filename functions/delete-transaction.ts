import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { deleteTransaction } from '../lib/transactions/queries.js';

export const handler = api({ id: true, status: 204 }, (req) =>
  withConnection((db) => deleteTransaction(db, req.userId, req.id), req),
);
