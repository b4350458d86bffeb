import { updateBook } from '../lib/books/queries.js';
import { patchBookBody } from '../lib/books/schema.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';

export const handler = api({ id: true, body: patchBookBody }, (req) =>
  withConnection((db) => updateBook(db, req.userId, req.id, req.body), req),
);
