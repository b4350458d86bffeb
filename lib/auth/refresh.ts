import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { AccountRefused, InvalidToken } from '../errors.js';
import { issueTokenPair, signToken, verifyTokenClaims } from './tokens.js';

// POST /api/token/refresh/. A refresh token lives a day (and forever with rotation), so unlike
// an access token (5 minutes) it is checked against the account: one short SELECT, after the
// signature check (a forged token costs no connection) and before signing.

/** SimpleJWT ≥ 5.3's TokenRefreshSerializer message for an inactive (or deleted) user. */
const noActiveAccount = () =>
  new AccountRefused('No active account found for the given token.', 'no_active_account');

interface AccountState {
  is_active: boolean;
  /** Epoch seconds; null when tokens were never revoked. */
  valid_after: number | null;
}

async function accountState(db: Db, userId: number): Promise<AccountState | undefined> {
  const { rows } = await db.query<AccountState>(
    'SELECT is_active, EXTRACT(EPOCH FROM tokens_valid_after)::float8 AS valid_after FROM users WHERE id = $1',
    [userId],
  );
  return rows[0];
}

/** SimpleJWT's TokenRefreshView: a new access token (and a new refresh token when rotating). */
export async function refreshTokens(refresh: string, opts: ConnectionOptions): Promise<{ access: string; refresh?: string }> {
  const { userId, issuedAt } = await verifyTokenClaims(refresh, 'refresh', 'Token is invalid or expired');
  const account = await withConnection((db) => accountState(db, userId), opts);
  if (!account?.is_active) throw noActiveAccount();
  // Issued before "log out everywhere" or a password change: refused like a blacklisted token.
  // iat has whole seconds, so a token issued in the same second as the revocation is refused too.
  if (account.valid_after !== null && issuedAt < account.valid_after) throw new InvalidToken('Token is blacklisted');
  if (getConfig().jwt.rotateRefreshTokens) return issueTokenPair(userId);
  return { access: await signToken(userId, 'access') };
}
