import { MethodNotAllowed } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { HttpReply } from '../lib/http/responses.js';
import { FALLBACKS } from '../lib/routes/fallbacks.js';

// Routed as ANY on every known path; API Gateway prefers the method-specific routes.
export const handler = api(FALLBACKS.methodNotAllowed, async (req) => {
  const method = req.event.requestContext.http.method;
  // CORS preflight: the httpCors middleware adds Access-Control-* for allowed origins only.
  if (method === 'OPTIONS') return new HttpReply(204, undefined);
  throw new MethodNotAllowed(method);
});
