import { refreshTokens } from '../lib/auth/refresh.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// One short SELECT: a deactivated or deleted account, or a revoked token, gets no new token.
export const handler = api(ACCOUNT_ROUTES.refreshToken, (req) => refreshTokens(req.body.refresh, req.connection));
