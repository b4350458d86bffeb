import type { Csp } from '../http/headers.js';

// The interactive docs page: Swagger UI from swagger-ui-dist, served by our own functions (no
// CDN), so it works offline and under a strict CSP (no inline script).

/** Scripts and styles only from this origin; Swagger UI sets inline styles. */
export const DOCS_CSP: Csp = {
  'default-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
  'img-src': "'self' data:",
  'font-src': "'self' data:",
  'connect-src': "'self'",
  'base-uri': "'none'",
  'form-action': "'none'",
  'frame-ancestors': "'none'",
  // middy's defaults for HTML would sandbox the page and forbid Swagger UI's DOM writes.
  sandbox: false,
  'require-trusted-types-for': false,
  'trusted-types': false,
  'navigate-to': false,
  'upgrade-insecure-requests': false,
};

const escapeHtml = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

/**
 * The page for /api/docs or /api/docs/ (or under a stage prefix): asset and document URLs are
 * built from the path it was served at, so they resolve with or without the trailing slash.
 */
export function docsPage(rawPath: string): string {
  const base = escapeHtml(rawPath.replace(/\/*$/, '/'));
  const spec = escapeHtml(rawPath.replace(/\/*$/, '').replace(/docs$/, 'openapi.json'));
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Cashbook API — documentation</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${base}swagger-ui.css">
</head>
<body data-spec="${spec}">
<div id="swagger-ui"></div>
<script src="${base}swagger-ui-bundle.js"></script>
<script src="${base}init.js"></script>
</body>
</html>
`;
}

/** Starts Swagger UI on the document named by the page; no online validator (offline). */
export const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: document.body.dataset.spec,
  dom_id: '#swagger-ui',
  deepLinking: true,
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis],
});
`;
