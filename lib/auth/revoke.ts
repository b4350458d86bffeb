import { setTimeout as sleep } from 'node:timers/promises';
import { withConnection, type ConnectionOptions } from '../db.js';
import { activeUser, type Caller } from './active-user.js';

// "Log out everywhere" (POST /api/token/revoke/) and password changes set
// users.tokens_valid_after; every token whose iat is earlier is refused: refresh tokens by the
// refresh statement, access tokens by the check every data statement carries
// (lib/auth/active-user.ts). iat has whole seconds, so "earlier" is decided by seconds: the
// instant is the NEXT whole second, which refuses every token issued up to the revocation, those
// of the same second included (an attacker refreshing in a loop cannot keep one alive). The
// request then waits for that second to begin (at most 1 s, no connection held) before it
// answers, so a login after the answer gets an iat at or after it and works. Both instants come
// from the functions' clocks, the same clocks that write iat.

/** The first whole second (epoch) whose tokens are valid again: after every token issued so far. */
export const revocationInstant = (nowMs = Date.now()): number => Math.floor(nowMs / 1000) + 1;

/** SQL for an UPDATE of users: revoke from the epoch parameter `instant`; never moves backwards. */
export const revokeSet = (instant: string): string =>
  `tokens_valid_after = GREATEST(tokens_valid_after, to_timestamp(${instant}::float8))`;

/** Resolves once tokens signed now are accepted again. */
export async function untilValid(instant: number): Promise<void> {
  const wait = instant * 1000 - Date.now();
  if (wait > 0) await sleep(wait);
}

/** One UPDATE (the caller's own token is checked in it: a revoked token cannot revoke again). */
export async function revokeTokens(caller: Caller, opts: ConnectionOptions): Promise<void> {
  const instant = revocationInstant();
  await withConnection(
    (db) => db.query(`UPDATE users SET ${revokeSet('$2')} WHERE id = $1 AND ${activeUser('$1', '$3')}`, [caller.id, instant, caller.issuedAt]),
    opts,
  );
  await untilValid(instant);
}
