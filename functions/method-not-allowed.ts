import { MethodNotAllowed } from '../lib/errors.js';
import { api } from '../lib/http/api.js';

// Routed as ANY on every known path; API Gateway prefers the method-specific routes.
export const handler = api({ auth: false }, async (req) => {
  throw new MethodNotAllowed(req.event.requestContext.http.method);
});
