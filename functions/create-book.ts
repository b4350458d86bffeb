import { insertBook } from '../lib/books/queries.js';
import { createBookBody } from '../lib/books/schema.js';
import { getConfig } from '../lib/config.js';
import { api } from '../lib/http/api.js';
import { idempotentCreate } from '../lib/http/idempotent.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second book.
export const handler = api({ body: createBookBody, status: 201 }, (req) => {
  const input = { ...req.body, currency: req.body.currency ?? getConfig().defaultCurrency };
  return idempotentCreate(req, 'POST /api/books', 201, (db, save) => insertBook(db, req.userId, input, save));
});
