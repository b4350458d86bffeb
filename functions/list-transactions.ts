import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { TRANSACTION_ROUTES } from '../lib/routes/transactions.js';
import { listLedger } from '../lib/transactions/list.js';

export const handler = api(TRANSACTION_ROUTES.listTransactions, async (req) => {
  const { page, page_size } = req.query;
  const slice = { limit: page_size, offset: (page - 1) * page_size };
  const result = await withConnection((db) => listLedger(db, req.caller, req.query, slice), req.connection);
  return paginate(req.event, req.query, result);
});
