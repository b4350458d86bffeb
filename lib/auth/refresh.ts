import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { AccountRefused } from '../errors.js';
import { revokedToken } from './active-user.js';
import { blacklistCtes, refreshClaims } from './blacklist.js';
import { issueTokenPair, signToken, type TokenClaims } from './tokens.js';

// POST /api/token/refresh/. A refresh token lives a day (and forever with rotation), so unlike
// an access token's short life it is checked against the account and the blacklist: one short
// statement, after the signature check (a forged token costs no connection) and before signing.
// With JWT_ROTATE_REFRESH_TOKENS the same statement also blacklists the token it was given, as
// SimpleJWT's BLACKLIST_AFTER_ROTATION does: a refresh token is good for one refresh, so logging
// out with the newest one ends the whole chain, and of two refreshes racing with the same token
// exactly one wins (the insert's ON CONFLICT). The price, as in SimpleJWT: a client whose
// refresh answer was lost must log in again.

/** SimpleJWT ≥ 5.3's TokenRefreshSerializer message for an inactive (or deleted) user. */
const noActiveAccount = () =>
  new AccountRefused('No active account found for the given token.', 'no_active_account');

interface RefreshState {
  is_active: boolean;
  /** Epoch seconds; null when tokens were never revoked. */
  valid_after: number | null;
  blacklisted: boolean;
  /** Rotating: this statement blacklisted the token (false: another refresh or a logout did first). */
  spent: boolean;
}

async function refreshState(db: Db, claims: TokenClaims & { jti: string }, rotate: boolean): Promise<RefreshState | undefined> {
  const account = 'SELECT is_active, EXTRACT(EPOCH FROM tokens_valid_after)::float8 AS valid_after FROM users WHERE id = $1';
  const blacklisted = 'EXISTS (SELECT 1 FROM token_blacklist WHERE jti = $2) AS blacklisted';
  const { rows } = rotate
    ? await db.query<RefreshState>(
        `WITH account AS (${account}),
         ${blacklistCtes('$2', '$1', '$3', `EXISTS (SELECT 1 FROM account WHERE is_active AND (valid_after IS NULL OR valid_after < $4))`)}
         SELECT account.*, ${blacklisted}, EXISTS (SELECT 1 FROM spent) AS spent FROM account`,
        [claims.userId, claims.jti, claims.expiresAt, claims.issuedAt],
      )
    : await db.query<RefreshState>(`SELECT account.*, ${blacklisted}, false AS spent FROM (${account}) AS account`, [claims.userId, claims.jti]);
  return rows[0];
}

/** SimpleJWT's TokenRefreshView: a new access token (and a new refresh token when rotating). */
export async function refreshTokens(refresh: string, opts: ConnectionOptions): Promise<{ access: string; refresh?: string }> {
  const claims = await refreshClaims(refresh);
  const rotate = getConfig().jwt.rotateRefreshTokens;
  const state = await withConnection((db) => refreshState(db, claims, rotate), opts);
  // SimpleJWT's order: the blacklist (Token.verify), then the account (the serializer).
  if (state?.blacklisted) throw revokedToken();
  if (!state?.is_active) throw noActiveAccount();
  // Issued before "log out everywhere" or a password change (lib/auth/revoke.ts).
  if (state.valid_after !== null && claims.issuedAt <= state.valid_after) throw revokedToken();
  if (!rotate) return { access: await signToken(claims.userId, 'access') };
  if (!state.spent) throw revokedToken();
  return issueTokenPair(claims.userId);
}
