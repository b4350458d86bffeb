import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { findTransaction } from '../lib/transactions/queries.js';

export const handler = api({ id: true }, (req) => withConnection((db) => findTransaction(db, req.userId, req.id), req));
