import { findBook } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { BOOK_ROUTES } from '../lib/routes/books.js';

export const handler = api(BOOK_ROUTES.getBook, (req) => withConnection((db) => findBook(db, req.caller, req.id), req.connection));
