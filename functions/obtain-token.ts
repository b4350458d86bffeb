import { login } from '../lib/auth/accounts.js';
import { sourceKey } from '../lib/auth/login-limit.js';
import { tokenBody } from '../lib/auth/schemas.js';
import { api } from '../lib/http/api.js';

export const handler = api({ auth: false, body: tokenBody }, (req) =>
  login(req.body, sourceKey(req.event.requestContext.http.sourceIp), req),
);
