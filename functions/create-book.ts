import { findBook, insertBook } from '../lib/books/queries.js';
import { createBookBody } from '../lib/books/schema.js';
import { getConfig } from '../lib/config.js';
import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second book.
// createOnce chooses the id, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api({ body: createBookBody, status: 201 }, (req) => {
  const input = { ...req.body, currency: req.body.currency ?? getConfig().defaultCurrency };
  return createOnce(
    req,
    (id) => idempotentCreate(req, 'POST /api/books', 201, (db, save) => insertBook(db, req.userId, input, save, id)),
    (db, id) => findBook(db, req.userId, id),
  );
});
