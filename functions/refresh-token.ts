import { refreshTokens } from '../lib/auth/refresh.js';
import { refreshBody } from '../lib/auth/schemas.js';
import { api } from '../lib/http/api.js';

// One short SELECT: a deactivated or deleted account, or a revoked token, gets no new token.
export const handler = api({ auth: false, body: refreshBody }, (req) => refreshTokens(req.body.refresh, req));
