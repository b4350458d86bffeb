import { listBooks } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate } from '../lib/http/pagination.js';
import { BOOK_ROUTES } from '../lib/routes/books.js';

export const handler = api(BOOK_ROUTES.listBooks, async (req) => {
  const page = await withConnection((db) => listBooks(db, req.caller, req.query), req.connection);
  return paginate(req.event, req.query, page);
});
