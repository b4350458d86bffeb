import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import type { Caller } from '../auth/active-user.js';
import { verifyTokenClaims } from '../auth/tokens.js';
import { InvalidToken, NotAuthenticated } from '../errors.js';

const MAX_AUTHORIZATION = 8 * 1024;

/**
 * SimpleJWT's JWTStatelessUserAuthentication: the user id (and the token's iat) come from a valid
 * access token; no database lookup here: every statement checks the account and the token's
 * iat itself (lib/auth/active-user.ts).
 */
export async function authenticate(event: APIGatewayProxyEventV2): Promise<Caller> {
  const header = event.headers?.authorization?.trim();
  if (!header) throw new NotAuthenticated();
  // A SimpleJWT token is a few hundred characters: a longer header is refused before it is split or decoded.
  if (header.length > MAX_AUTHORIZATION) throw new InvalidToken();
  const [scheme, token, ...rest] = header.split(/\s+/);
  if (scheme !== 'Bearer') throw new NotAuthenticated();
  if (!token || rest.length > 0) {
    throw new InvalidToken('Authorization header must contain two space-delimited values');
  }
  const { userId, issuedAt } = await verifyTokenClaims(token, 'access');
  return { id: userId, issuedAt };
}
