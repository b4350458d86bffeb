import { withConnection, type ConnectionOptions, type Db } from '../db.js';
import { Conflict, ValidationError } from '../errors.js';
import { activeUser, type Caller } from './active-user.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { revocationInstant, revokeSet } from './revoke.js';
import type { ChangePasswordInput } from './schemas.js';

// POST /api/password/change/. Two short statements with the password work between them and no
// connection held: read the hash, release; check the old password and hash the new one; write
// the new hash only if the stored one is still the one checked, revoking every token issued
// so far (the caller's too: it logs in again with the new password). The new password's rules
// (registration's, lib/auth/schemas.ts) are checked before any of this.

/** Django's PasswordChangeForm message. */
export const WRONG_OLD_PASSWORD = 'Your old password was entered incorrectly. Please enter it again.';

async function storedHash(db: Db, caller: Caller): Promise<string> {
  const { rows } = await db.query<{ password_hash: string }>(
    `SELECT password_hash FROM users WHERE id = $1 AND ${activeUser('$1', '$2')}`,
    [caller.id, caller.issuedAt],
  );
  // The check raises for a missing user, so a row is there.
  return rows[0]!.password_hash;
}

async function replaceHash(db: Db, caller: Caller, checked: string, replacement: string, instant: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE users SET password_hash = $3, ${revokeSet('$4')}
     WHERE id = $1 AND password_hash = $2 AND ${activeUser('$1', '$5')}`,
    [caller.id, checked, replacement, instant, caller.issuedAt],
  );
  return rowCount === 1;
}

export async function changePassword(caller: Caller, input: ChangePasswordInput, opts: ConnectionOptions): Promise<void> {
  const checked = await withConnection((db) => storedHash(db, caller), opts);
  if (!(await verifyPassword(input.old_password, checked))) throw new ValidationError({ old_password: [WRONG_OLD_PASSWORD] });
  const replacement = await hashPassword(input.new_password);
  const instant = revocationInstant();
  const replaced = await withConnection((db) => replaceHash(db, caller, checked, replacement, instant), opts);
  // Another password change (or a login's re-hash of a Django hash) wrote first.
  if (!replaced) throw new Conflict('The password was changed by another request meanwhile. Please try again.');
}
