import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { listTransactions } from '../lib/transactions/queries.js';
import { listQuery } from '../lib/transactions/schema.js';

export const handler = api({ query: listQuery }, async (req) => {
  const page = await withConnection((db) => listTransactions(db, req.userId, req.query), req);
  return paginate(req.event, req.query, page);
});
