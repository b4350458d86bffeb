import { api } from '../lib/http/api.js';
import { createOnce } from '../lib/http/create-once.js';
import { idempotentCreate } from '../lib/http/idempotent.js';
import { TRANSFER_ROUTES } from '../lib/routes/transfers.js';
import { findTransfer, insertTransfer } from '../lib/transfers/queries.js';

// Both entries in one statement. Honours Idempotency-Key as the other creates do, and createOnce
// chooses the transfer's id, so a connection lost after COMMIT is answered 201, not "retry".
export const handler = api(TRANSFER_ROUTES.createTransfer, (req) =>
  createOnce(
    req.connection,
    (id) => idempotentCreate(req, (db, save) => insertTransfer(db, req.caller, req.body, save, id)),
    (db, id) => findTransfer(db, req.caller, id),
  ),
);
