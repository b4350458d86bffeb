import { api } from '../lib/http/api.js';
import { HttpReply } from '../lib/http/responses.js';
import { docsPage } from '../lib/openapi/docs-page.js';
import { SERVICE_ROUTES } from '../lib/routes/service.js';

export const handler = api(SERVICE_ROUTES.getDocs, async (req) =>
  new HttpReply(200, docsPage(req.event.rawPath ?? '/api/docs'), { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, true),
);
