import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { TRANSFER_ROUTES } from '../lib/routes/transfers.js';
import { updateTransfer } from '../lib/transfers/queries.js';

export const handler = api(TRANSFER_ROUTES.updateTransfer, (req) =>
  withConnection((db) => updateTransfer(db, req.caller, req.id, req.body), req.connection),
);
