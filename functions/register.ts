import { registerUser } from '../lib/auth/accounts.js';
import { sourceKey } from '../lib/auth/login-limit.js';
import { registerBody } from '../lib/auth/schemas.js';
import { api } from '../lib/http/api.js';

export const handler = api({ auth: false, body: registerBody, status: 201 }, (req) =>
  registerUser(req.body, sourceKey(req.event.requestContext.http.sourceIp), req),
);
