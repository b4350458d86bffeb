import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed } from '../errors.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { findCredentials, insertUser, replacePasswordHash, type PublicUser } from './users.js';

/** Hashes first (no connection held), then one INSERT. */
export async function registerUser(input: RegisterInput, opts: ConnectionOptions): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  const currency = getConfig().defaultCurrency;
  return withConnection((db) => insertUser(db, { ...input, passwordHash, currency }), opts);
}

/**
 * One SELECT, connection released, then the hash check and token signing. A user imported from
 * Django (pbkdf2_sha256) is re-hashed with scrypt after a successful login — still with no
 * connection held — and saved by one short UPDATE on a fresh connection.
 */
export async function login(
  credentials: { username: string; password: string },
  opts: ConnectionOptions,
): Promise<{ refresh: string; access: string }> {
  const user = await withConnection((db) => findCredentials(db, credentials.username), opts);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) throw new AuthenticationFailed();
  if (needsRehash(user.password_hash)) {
    const upgraded = await hashPassword(credentials.password);
    // Best effort: the login has succeeded; the next one upgrades if this UPDATE could not run.
    await withConnection((db) => replacePasswordHash(db, user.id, user.password_hash, upgraded), opts).catch(() => undefined);
  }
  return issueTokenPair(user.id);
}
