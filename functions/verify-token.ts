import { verifyBody } from '../lib/auth/schemas.js';
import { verifyToken } from '../lib/auth/tokens.js';
import { api } from '../lib/http/api.js';

// SimpleJWT's TokenVerifyView accepts a valid access or refresh token.
export const handler = api({ auth: false, body: verifyBody }, async (req) => {
  await verifyToken(req.body.token, 'any', 'Token is invalid or expired');
  return {};
});
