import { deleteBook } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { BOOK_ROUTES } from '../lib/routes/books.js';

// 409 while the book has transactions, unless ?force=true deletes them with it.
export const handler = api(BOOK_ROUTES.deleteBook, (req) =>
  withConnection((db) => deleteBook(db, req.caller, req.id, req.query.force), req.connection),
);
