import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';

// Opens and closes one connection like every other endpoint; 503 when the database is down.
export const handler = api({ auth: false }, async (req) => {
  await withConnection((db) => db.query('SELECT 1'), req);
  return { status: 'ok', database: 'ok' };
});
