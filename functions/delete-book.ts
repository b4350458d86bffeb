import { deleteBook } from '../lib/books/queries.js';
import { deleteBookQuery } from '../lib/books/schema.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';

// 409 while the book has transactions, unless ?force=true deletes them with it.
export const handler = api({ id: true, query: deleteBookQuery, status: 204 }, (req) =>
  withConnection((db) => deleteBook(db, req.userId, req.id, req.query.force), req),
);
