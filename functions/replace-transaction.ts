import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { updateTransaction } from '../lib/transactions/queries.js';
import { replaceTransactionBody } from '../lib/transactions/schema.js';

export const handler = api({ id: true, body: replaceTransactionBody }, (req) =>
  withConnection((db) => updateTransaction(db, req.userId, req.id, req.body), req),
);
