import { api } from '../lib/http/api.js';
import { HttpReply } from '../lib/http/responses.js';
import { DOCS_CSP, docsPage } from '../lib/openapi/docs-page.js';

export const handler = api({ auth: false, csp: DOCS_CSP }, async (req) =>
  new HttpReply(200, docsPage(req.event.rawPath ?? '/api/docs'), { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache' }, true),
);
