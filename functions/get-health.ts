import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { SERVICE_ROUTES } from '../lib/routes/service.js';

// Opens and closes one connection like every other endpoint; 503 when the database is down.
export const handler = api(SERVICE_ROUTES.getHealth, async (req) => {
  await withConnection((db) => db.query('SELECT 1'), req.connection);
  return { status: 'ok', database: 'ok' };
});
