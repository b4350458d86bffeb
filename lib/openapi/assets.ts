import bundle from 'swagger-ui-dist/swagger-ui-bundle.js?raw';
import css from 'swagger-ui-dist/swagger-ui.css?raw';
import { INIT_SCRIPT } from './docs-page.js';

// Inlined at build time (`?raw`): only the docs-asset function imports this module, so only its
// bundle carries Swagger UI (about 2 MB); every other function stays small.

export const DOCS_ASSETS: Record<string, { contentType: string; body: string }> = {
  'swagger-ui-bundle.js': { contentType: 'text/javascript; charset=utf-8', body: bundle },
  'swagger-ui.css': { contentType: 'text/css; charset=utf-8', body: css },
  'init.js': { contentType: 'text/javascript; charset=utf-8', body: INIT_SCRIPT },
};
