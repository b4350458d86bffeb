import { revokeTokens } from '../lib/auth/revoke.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// Log out everywhere: one UPDATE of users.tokens_valid_after.
export const handler = api(ACCOUNT_ROUTES.revokeTokens, (req) => revokeTokens(req.caller, req.connection));
