import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed, PermissionDenied } from '../errors.js';
import { countAttempt, countRegistration, loginKeys, recordSuccess } from './login-limit.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { insertUser, replacePasswordHash, type PublicUser } from './users.js';

const REGISTRATION_CLOSED = 'Registration is closed for now. Please try again later.';

/**
 * Refused at once while registration is closed (no hash, no connection). Otherwise hashes first
 * (no connection held), then on one connection: count this source's registrations (429 past the
 * limit), and one INSERT (user + default book).
 */
export async function registerUser(input: RegisterInput, source: string, opts: ConnectionOptions): Promise<PublicUser> {
  if (!getConfig().registrationEnabled) throw new PermissionDenied(REGISTRATION_CLOSED);
  const passwordHash = await hashPassword(input.password);
  const { defaultCurrency: currency, register } = getConfig();
  return withConnection(async (db) => {
    await countRegistration(db, source, register);
    return insertUser(db, { ...input, passwordHash, currency });
  }, opts);
}

/**
 * One statement (count this attempt three ways + read the credentials), connection released,
 * then the hash check and token signing; a success refunds the attempt with one short write.
 * Unknown usernames take the same path (decoy hash, counted attempt), so neither the answer nor
 * the limits tell whether a username exists. A user imported from Django (pbkdf2_sha256) is
 * re-hashed with scrypt after a successful login, still with no connection held, and saved by
 * one short UPDATE.
 */
export async function login(
  credentials: { username: string; password: string },
  source: string,
  opts: ConnectionOptions,
): Promise<{ refresh: string; access: string }> {
  const { username } = credentials;
  const keys = loginKeys(source, username);
  const { user } = await withConnection((db) => countAttempt(db, keys, username, getConfig().login), opts);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) throw new AuthenticationFailed();
  await withConnection((db) => recordSuccess(db, keys), opts);
  if (needsRehash(user.password_hash)) {
    const upgraded = await hashPassword(credentials.password);
    // Best effort: the login has succeeded; the next one upgrades if this UPDATE could not run.
    await withConnection((db) => replacePasswordHash(db, user.id, user.password_hash, upgraded), opts).catch(() => undefined);
  }
  return issueTokenPair(user.id);
}
