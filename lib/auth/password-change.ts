import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { Conflict, ValidationError } from '../errors.js';
import { activeUser, type Caller } from './active-user.js';
import { admitGuess, clearGuesses, guessGate, passwordChangeKey } from './login-limit.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { revocationInstant, revokeSet } from './revoke.js';
import type { ChangePasswordInput } from './schemas.js';

// POST /api/password/change/. Two short statements with the password work between them and no
// connection held: count this guess of the old password (429 past the login limits' per-pair
// rule, lib/auth/login-limit.ts: a stolen token is no password oracle) and read the hash,
// release; check the old password and hash the new one; write the new hash only if the stored
// one is still the one checked, revoking every token issued so far (the caller's too: it logs
// in again with the new password) and clearing the guess counter. The new password's rules
// (registration's, lib/auth/schemas.ts) are checked before any of this.

/** Django's PasswordChangeForm message. */
export const WRONG_OLD_PASSWORD = 'Your old password was entered incorrectly. Please enter it again.';

async function countGuessAndReadHash(db: Db, caller: Caller): Promise<string> {
  const { maxFailures, windowSeconds } = getConfig().login;
  const { rows } = await db.query<{ wait: number; admitted: boolean; password_hash: string }>(
    `WITH ${guessGate('$3', '$4::int', '$5::int')}
     SELECT s.wait, g.key IS NOT NULL AS admitted, u.password_hash
       FROM guess_seen s
       LEFT JOIN guess_gate g ON true
       LEFT JOIN users u ON u.id = $1
      WHERE ${activeUser('$1', '$2')}`,
    [caller.id, caller.issuedAt, passwordChangeKey(caller.id), windowSeconds, maxFailures],
  );
  // The check raises for a missing user (counting nothing), so a row is there.
  const row = rows[0]!;
  admitGuess(row);
  return row.password_hash;
}

async function replaceHash(db: Db, caller: Caller, checked: string, replacement: string): Promise<boolean> {
  // The instant is taken with the connection open, just before the UPDATE is sent: a login whose
  // final check still saw the old hash (recordSuccess, lib/auth/login-limit.ts) and whose tokens
  // postdate this instant has one round trip to get them in, not a connect as well.
  const { rows } = await db.query<{ replaced: number }>(
    `WITH replaced AS (
       UPDATE users SET password_hash = $3, ${revokeSet('$4')}
        WHERE id = $1 AND password_hash = $2
        RETURNING id
     ), cleared AS (
       ${clearGuesses('$6', 'EXISTS (SELECT FROM replaced)')}
     )
     SELECT count(*)::int AS replaced FROM replaced WHERE ${activeUser('$1', '$5')}`,
    [caller.id, checked, replacement, revocationInstant(), caller.issuedAt, passwordChangeKey(caller.id)],
  );
  return rows[0]!.replaced === 1;
}

export async function changePassword(caller: Caller, input: ChangePasswordInput, opts: ConnectionOptions): Promise<void> {
  const checked = await withConnection((db) => countGuessAndReadHash(db, caller), opts);
  if (!(await verifyPassword(input.old_password, checked))) throw new ValidationError({ old_password: [WRONG_OLD_PASSWORD] });
  const replacement = await hashPassword(input.new_password);
  const replaced = await withConnection((db) => replaceHash(db, caller, checked, replacement), opts);
  // Another password change (or a login's re-hash of a Django hash) wrote first.
  if (!replaced) throw new Conflict('The password was changed by another request meanwhile. Please try again.');
}
