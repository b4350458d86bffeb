import { withConnection, type ConnectionOptions } from '../db.js';
import { AuthenticationFailed } from '../errors.js';
import { hashPassword, verifyPassword } from './passwords.js';
import type { RegisterInput } from './schemas.js';
import { issueTokenPair } from './tokens.js';
import { findCredentials, insertUser, type PublicUser } from './users.js';

/** Hashes first (no connection held), then one INSERT. */
export async function registerUser(input: RegisterInput, opts: ConnectionOptions): Promise<PublicUser> {
  const passwordHash = await hashPassword(input.password);
  return withConnection((db) => insertUser(db, { ...input, passwordHash }), opts);
}

/** One SELECT, connection released, then the hash check and token signing. */
export async function login(
  credentials: { username: string; password: string },
  opts: ConnectionOptions,
): Promise<{ refresh: string; access: string }> {
  const user = await withConnection((db) => findCredentials(db, credentials.username), opts);
  const ok = await verifyPassword(credentials.password, user?.password_hash);
  if (!ok || !user?.is_active) throw new AuthenticationFailed();
  return issueTokenPair(user.id);
}
