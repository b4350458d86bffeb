import { blacklistRefreshToken } from '../lib/auth/blacklist.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// SimpleJWT's TokenBlacklistView (log out): one INSERT of the token's jti.
export const handler = api(ACCOUNT_ROUTES.blacklistToken, (req) => blacklistRefreshToken(req.body.refresh, req.connection));
