import { DOCS_CSP } from '../openapi/docs-page.js';
import * as out from '../openapi/responses.js';
import { notFound, ok, type Route } from './route.js';

// Health and documentation: part of the route table (lib/routes/index.ts).

export const SERVICE_ROUTES = {
  getHealth: {
    method: 'GET', path: '/api/health', summary: 'Liveness, including one database round trip', tag: 'service', auth: false, database: true,
    responses: { 200: ok('Healthy', ['Health', out.health]) },
  },
  getOpenApi: {
    method: 'GET', path: '/api/openapi.json', summary: 'This document', tag: 'service', auth: false, database: false,
    responses: { 200: { description: 'OpenAPI 3.1 document', contentType: 'application/json' } },
  },
  getDocs: {
    method: 'GET', path: '/api/docs', summary: 'Interactive documentation (Swagger UI)', tag: 'service', auth: false, database: false,
    csp: DOCS_CSP,
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
  },
  // Swagger UI's files are inlined into this function's bundle only (`?raw` imports).
  getDocsAsset: {
    method: 'GET', path: '/api/docs/{file}', summary: 'Script and style files of the docs page', tag: 'service', auth: false, database: false,
    responses: { 200: { description: 'A static file', contentType: 'application/octet-stream' }, 404: notFound },
  },
} satisfies Record<string, Route>;
