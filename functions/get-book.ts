import { findBook } from '../lib/books/queries.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';

export const handler = api({ id: true }, (req) => withConnection((db) => findBook(db, req.userId, req.id), req));
