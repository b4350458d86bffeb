import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed, Throttled } from '../errors.js';
import { clearFailures, countAttempt } from './login-limit.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { insertUser, replacePasswordHash, type PublicUser } from './users.js';

/** Hashes first (no connection held), then one INSERT. */
export async function registerUser(input: RegisterInput, opts: ConnectionOptions): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  const currency = getConfig().defaultCurrency;
  return withConnection((db) => insertUser(db, { ...input, passwordHash, currency }), opts);
}

/**
 * One statement (count this attempt + read the credentials), connection released, then the hash
 * check and token signing; a success resets the count with one short write. Unknown usernames
 * take the same path (decoy hash, counted attempt), so neither the answer nor the limit tells
 * whether a username exists. A user imported from Django (pbkdf2_sha256) is re-hashed with
 * scrypt after a successful login, still with no connection held, and saved by one short UPDATE.
 */
export async function login(
  credentials: { username: string; password: string },
  opts: ConnectionOptions,
): Promise<{ refresh: string; access: string }> {
  const { maxFailures, windowSeconds } = getConfig().login;
  const { username } = credentials;
  const { user, attempts, retryAfterSeconds } = await withConnection((db) => countAttempt(db, username, windowSeconds), opts);
  if (attempts > maxFailures) throw new Throttled(retryAfterSeconds);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) throw new AuthenticationFailed();
  await withConnection((db) => clearFailures(db, username), opts);
  if (needsRehash(user.password_hash)) {
    const upgraded = await hashPassword(credentials.password);
    // Best effort: the login has succeeded; the next one upgrades if this UPDATE could not run.
    await withConnection((db) => replacePasswordHash(db, user.id, user.password_hash, upgraded), opts).catch(() => undefined);
  }
  return issueTokenPair(user.id);
}
