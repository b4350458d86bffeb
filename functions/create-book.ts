import { findBook, insertBook } from '../lib/books/queries.js';
import { getConfig } from '../lib/config.js';
import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { BOOK_ROUTES } from '../lib/routes/books.js';

// Honours Idempotency-Key: a retried POST replays the first answer instead of a second book.
// createOnce chooses the id, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api(BOOK_ROUTES.createBook, (req) => {
  const input = { ...req.body, currency: req.body.currency ?? getConfig().defaultCurrency };
  return createOnce(
    req.connection,
    (id) => idempotentCreate(req, (db, save) => insertBook(db, req.caller, input, save, id)),
    (db, id) => findBook(db, req.caller, id),
  );
});
