import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { TRANSFER_ROUTES } from '../lib/routes/transfers.js';
import { findTransfer } from '../lib/transfers/queries.js';

export const handler = api(TRANSFER_ROUTES.getTransfer, (req) => withConnection((db) => findTransfer(db, req.caller, req.id), req.connection));
