import { verifyToken } from '../lib/auth/tokens.js';
import { api } from '../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../lib/routes/accounts.js';

// SimpleJWT's TokenVerifyView accepts a valid access or refresh token.
export const handler = api(ACCOUNT_ROUTES.verifyToken, async (req) => {
  await verifyToken(req.body.token, 'any', 'Token is invalid or expired');
  return {};
});
