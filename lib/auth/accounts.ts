import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed, Throttled } from '../errors.js';
import { clearFailures, findLogin, recordFailure } from './login-limit.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { insertUser, type PublicUser } from './users.js';

/** Hashes first (no connection held), then one INSERT. */
export async function registerUser(input: RegisterInput, opts: ConnectionOptions): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  return withConnection((db) => insertUser(db, { ...input, passwordHash }), opts);
}

/**
 * One SELECT (credentials + recent failures), connection released, then the hash check and
 * token signing; a failure costs one short write, a success after failures one reset. Unknown
 * usernames take the same path (decoy hash, counted failure), so neither the answer nor the
 * limit tells whether a username exists.
 */
export async function login(
  credentials: { username: string; password: string },
  opts: ConnectionOptions,
): Promise<{ refresh: string; access: string }> {
  const { maxFailures, windowSeconds } = getConfig().login;
  const { username } = credentials;
  const { user, failures, retryAfterSeconds } = await withConnection((db) => findLogin(db, username, windowSeconds), opts);
  if (failures >= maxFailures) throw new Throttled(retryAfterSeconds);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) {
    await withConnection((db) => recordFailure(db, username, windowSeconds), opts);
    throw new AuthenticationFailed();
  }
  if (failures > 0) await withConnection((db) => clearFailures(db, username), opts);
  return issueTokenPair(user.id);
}
