import httpCors from '@middy/http-cors';
import httpSecurityHeaders from '@middy/http-security-headers';
import type { Config } from '../config.js';

// Security headers and CORS, by middy's official middlewares. CORS is answered by the functions,
// not by API Gateway: the HTTP API has no `cors` setting, so the same code and CORS_ORIGINS
// decide locally (serverless-offline) and in AWS. Preflight OPTIONS reaches methodNotAllowed
// (the ANY route on every known path), which answers 204 and lets httpCors add the headers.

const CORS_METHODS = 'GET,POST,PUT,PATCH,DELETE,OPTIONS';
const CORS_HEADERS = 'Authorization,Content-Type';

export function cors(config: Pick<Config, 'corsOrigins'>) {
  return httpCors({
    origins: config.corsOrigins,
    methods: CORS_METHODS,
    headers: CORS_HEADERS,
    exposeHeaders: 'Retry-After,WWW-Authenticate',
    maxAge: 600,
  });
}

/** Content-Security-Policy directives for HTML responses (the docs page); JSON needs none. */
export type Csp = Record<string, string | false>;

export function securityHeaders(csp?: Csp) {
  // Reporting-Endpoints would be sent empty: there is no report collector.
  return httpSecurityHeaders({ reportingEndpoints: false, ...(csp ? { contentSecurityPolicy: csp } : {}) } as never);
}
