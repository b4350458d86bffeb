import { withConnection } from '../lib/db.js';
import { entryHistory } from '../lib/history/entry-history.js';
import { api } from '../lib/http/api.js';
import { HISTORY_ROUTES } from '../lib/routes/history.js';

export const handler = api(HISTORY_ROUTES.getTransactionHistory, (req) => withConnection((db) => entryHistory(db, req.caller, req.id), req.connection));
