import { registerUser } from '../lib/auth/accounts.js';
import { sourceKey } from '../lib/auth/login-limit.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

export const handler = api(ACCOUNT_ROUTES.register, (req) =>
  registerUser(req.body, sourceKey(req.event.requestContext.http.sourceIp), req.connection),
);
