import { getConfig } from '../config.js';
import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed, Throttled } from '../errors.js';
import { clearFailures, findLogin, recordFailure } from './login-limit.js';
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
import { AuthenticationFailed, Throttled } from '../errors.js';
import { clearFailures, findLogin, recordFailure } from './login-limit.js';
import { hashPassword, needsRehash, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { insertUser, replacePasswordHash, type PublicUser } from './users.js';
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
  if (needsRehash(user.password_hash)) {
    const upgraded = await hashPassword(credentials.password);
    // Best effort: the login has succeeded; the next one upgrades if this UPDATE could not run.
    await withConnection((db) => replacePasswordHash(db, user.id, user.password_hash, upgraded), opts).catch(() => undefined);
  }
  return issueTokenPair(user.id);
}
