import { withConnection, type ConnectionOptions } from '../db.js';
import { activeUser, type Caller } from './active-user.js';

// "Log out everywhere" (POST /api/token/revoke/) and password changes set
// users.tokens_valid_after to the instant of the request; every token issued up to it is
// refused: refresh tokens by the refresh statement, access tokens by the check every data
// statement carries (lib/auth/active-user.ts). "Issued" is to the millisecond for our tokens
// (their jti is a UUIDv7, lib/auth/tokens.ts), so a token issued earlier in the same second is
// refused (an attacker refreshing in a loop cannot keep one alive) and a login right after the
// answer works. A token of the old backend (no time in its jti) counts as issued at the start
// of its iat's second: refused when issued in the revocation's second, before or after it.
// The instant comes from the functions' clock, the clock that signs tokens.

/** Now, as epoch seconds with milliseconds. */
export const revocationInstant = (nowMs = Date.now()): number => nowMs / 1000;

/** SQL for an UPDATE of users: revoke up to the epoch parameter `instant`; never moves backwards. */
export const revokeSet = (instant: string): string =>
  `tokens_valid_after = GREATEST(tokens_valid_after, to_timestamp(${instant}::float8))`;

/** One UPDATE (the caller's own token is checked in it: a revoked token cannot revoke again). */
export async function revokeTokens(caller: Caller, opts: ConnectionOptions): Promise<void> {
  await withConnection(
    (db) =>
      db.query(`UPDATE users SET ${revokeSet('$2')} WHERE id = $1 AND ${activeUser('$1', '$3')}`, [caller.id, revocationInstant(), caller.issuedAt]),
    opts,
  );
}
