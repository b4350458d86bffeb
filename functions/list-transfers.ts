import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { TRANSFER_ROUTES } from '../lib/routes/transfers.js';
import { listTransfers } from '../lib/transfers/queries.js';

export const handler = api(TRANSFER_ROUTES.listTransfers, async (req) => {
  const result = await withConnection((db) => listTransfers(db, req.caller, req.query), req.connection);
  return paginate(req.event, req.query, result);
});
