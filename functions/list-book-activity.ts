import { withConnection } from '../lib/db.js';
import { bookActivity } from '../lib/history/book-activity.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { HISTORY_ROUTES } from '../lib/routes/history.js';

export const handler = api(HISTORY_ROUTES.listBookActivity, async (req) => {
  const page = await withConnection((db) => bookActivity(db, req.caller, req.id, req.query), req.connection);
  return paginate(req.event, req.query, page);
});
