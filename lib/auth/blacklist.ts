import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { InvalidToken } from '../errors.js';
import { revokedToken } from './active-user.js';
import { verifyTokenClaims, type TokenClaims } from './tokens.js';

// SimpleJWT's token_blacklist app, for refresh tokens: POST /api/token/blacklist/ (log out)
// stores the token's jti, and refresh refuses a stored jti in the statement it runs anyway
// (lib/auth/refresh.ts). A row is kept until the token's own exp; each statement that writes
// one also deletes a few expired rows, so the table holds about the live blacklisted tokens
// and needs no cron.

/** Expired rows deleted per write: more than a write adds, so expired rows cannot pile up. */
const PURGE_BATCH = 20;

/** SimpleJWT's TokenBlacklistView message for a token that cannot be read. */
export const INVALID_REFRESH = 'Token is invalid or expired';

/** A refresh token's claims, refused (as SimpleJWT does) when it carries no jti to blacklist by. */
export async function refreshClaims(refresh: string): Promise<TokenClaims & { jti: string }> {
  const claims = await verifyTokenClaims(refresh, 'refresh', INVALID_REFRESH);
  if (claims.jti === undefined) throw new InvalidToken('Token has no id');
  return { ...claims, jti: claims.jti };
}

/**
 * CTEs `purge` (a few expired rows; concurrent writers skip each other's, never wait) and `spent`
 * (this token's row, RETURNING jti only when it was not there yet). `when` is an extra condition
 * on the insert (SQL, may reference CTEs defined before). Parameters: jti, user id, exp (epoch s).
 */
export const blacklistCtes = (jti: string, userId: string, exp: string, when = 'true'): string =>
  `purge AS (
     DELETE FROM token_blacklist WHERE jti IN (
       SELECT jti FROM token_blacklist WHERE expires_at < now() LIMIT ${PURGE_BATCH} FOR UPDATE SKIP LOCKED)
   ), spent AS (
     INSERT INTO token_blacklist (jti, user_id, expires_at)
     SELECT ${jti}::text, ${userId}::bigint, to_timestamp(${exp}::float8) WHERE ${when}
     ON CONFLICT (jti) DO NOTHING
     RETURNING jti
   )`;

async function blacklist(db: Db, claims: TokenClaims & { jti: string }): Promise<{ blacklisted: boolean; revoked: boolean }> {
  const { rows } = await db.query<{ blacklisted: boolean; revoked: boolean }>(
    `WITH ${blacklistCtes('$1', '$2', '$3')}
     SELECT EXISTS (SELECT 1 FROM spent) AS blacklisted,
            COALESCE((SELECT EXTRACT(EPOCH FROM u.tokens_valid_after)::float8 >= $4 FROM users u WHERE u.id = $2), false) AS revoked`,
    [claims.jti, claims.userId, claims.expiresAt, claims.issuedAt],
  );
  return rows[0]!;
}

/**
 * SimpleJWT's TokenBlacklistView: one statement. A token already blacklisted, or issued before
 * the account's "log out everywhere" or password change, is refused as SimpleJWT refuses a
 * blacklisted one. The account itself is not checked (SimpleJWT does not either): logging out
 * of a deactivated account's session still succeeds.
 */
export async function blacklistRefreshToken(refresh: string, opts: ConnectionOptions): Promise<Record<string, never>> {
  const claims = await refreshClaims(refresh);
  const { blacklisted, revoked } = await withConnection((db) => blacklist(db, claims), opts);
  if (!blacklisted || revoked) throw revokedToken();
  return {};
}
