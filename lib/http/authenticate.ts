import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { verifyToken } from '../auth/tokens.js';
import { InvalidToken, NotAuthenticated } from '../errors.js';

const MAX_AUTHORIZATION = 8 * 1024;

/**
 * SimpleJWT's JWTStatelessUserAuthentication: the user id comes from a valid access token; no
 * database lookup (every query is scoped to that id, so a deleted user simply finds nothing).
 */
export async function authenticate(event: APIGatewayProxyEventV2): Promise<number> {
  const header = event.headers?.authorization?.trim();
  if (!header) throw new NotAuthenticated();
  // A SimpleJWT token is a few hundred characters: a longer header is refused before it is split or decoded.
  if (header.length > MAX_AUTHORIZATION) throw new InvalidToken();
  const [scheme, token, ...rest] = header.split(/\s+/);
  if (scheme !== 'Bearer') throw new NotAuthenticated();
  if (!token || rest.length > 0) {
    throw new InvalidToken('Authorization header must contain two space-delimited values');
  }
  return verifyToken(token, 'access');
}
