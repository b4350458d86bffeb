import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { listLedger } from '../lib/transactions/list.js';
import { listTransactionsQuery } from '../lib/transactions/schema.js';

export const handler = api({ query: listTransactionsQuery }, async (req) => {
  const { page, page_size } = req.query;
  const slice = { limit: page_size, offset: (page - 1) * page_size };
  const result = await withConnection((db) => listLedger(db, req.userId, req.query, slice), req);
  return paginate(req.event, req.query, result);
});
