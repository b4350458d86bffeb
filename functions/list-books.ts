import { listBooks } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { paginate, pageQuery } from '../lib/http/pagination.js';

export const handler = api({ query: pageQuery }, async (req) => {
  const page = await withConnection((db) => listBooks(db, req.userId, req.query), req);
  return paginate(req.event, req.query, page);
});
