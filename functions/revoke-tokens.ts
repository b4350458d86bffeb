import { revokeTokens } from '../lib/auth/revoke.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// Log out everywhere: one UPDATE; answers once a new login's tokens are valid (at most 1 s).
export const handler = api(ACCOUNT_ROUTES.revokeTokens, (req) => revokeTokens(req.caller, req.connection));
