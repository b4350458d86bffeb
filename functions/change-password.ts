import { changePassword } from '../lib/auth/password-change.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// Read the hash, release; check and hash with no connection; write if unchanged, revoking every token.
export const handler = api(ACCOUNT_ROUTES.changePassword, (req) => changePassword(req.caller, req.body, req.connection));
