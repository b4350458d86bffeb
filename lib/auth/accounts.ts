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
 * Refused at once while registration is closed (no hash, no connection). Otherwise counts this
 * source's registrations first (429 past the limit), so a throttled request costs one short
 * statement and no scrypt; then hashes with no connection held, and one INSERT (user + default
 * book) on a second connection.
 */
export async function registerUser(input: RegisterInput, source: string, opts: ConnectionOptions): Promise<PublicUser> {
  if (!getConfig().registrationEnabled) throw new PermissionDenied(REGISTRATION_CLOSED);
  const { defaultCurrency: currency, register } = getConfig();
  await withConnection((db) => countRegistration(db, source, register), opts);
  const passwordHash = await hashPassword(input.password);
  return withConnection((db) => insertUser(db, { ...input, passwordHash, currency }), opts);
}

/**
 * One statement (count this attempt three ways + read the credentials), connection released,
 * then the hash check and token signing; a success refunds the attempt with one short write,
 * which also checks that the hash checked is still the user's (else 401, no tokens).
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
  const { user, countedWide } = await withConnection((db) => countAttempt(db, keys, username, getConfig().login), opts);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) throw new AuthenticationFailed();
  // A password change or deactivation that committed during the check wins.
  if (!(await withConnection((db) => recordSuccess(db, keys, countedWide, user), opts))) throw new AuthenticationFailed();
  if (needsRehash(user.password_hash)) {
    const upgraded = await hashPassword(credentials.password);
    // Best effort: the login has succeeded; the next one upgrades if this UPDATE could not run.
    await withConnection((db) => replacePasswordHash(db, user.id, user.password_hash, upgraded), opts).catch(() => undefined);
  }
  return issueTokenPair(user.id);
}
