import { updateBook } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { BOOK_ROUTES } from '../lib/routes/books.js';

export const handler = api(BOOK_ROUTES.updateBook, (req) =>
  withConnection((db) => updateBook(db, req.caller, req.id, req.body), req.connection),
);
