import { errorCode } from '../db.js';
import { AccountRefused } from '../errors.js';

// Revoked accounts, checked inside the statement each data request already runs (no extra
// round trip). `activeUser('$1')` is a WHERE condition on no column of the statement's tables:
// PostgreSQL evaluates it once, before any row is read (a "One-Time Filter"), so it fires even
// when nothing would match; for a deleted or deactivated user it raises (migration
// 1764000030000), which aborts the whole statement, writes included. api.ts turns that error
// into SimpleJWT's answer. Put it in the WHERE of the statement's top-level query (an
// `INSERT ... SELECT ... WHERE`, an UPDATE/DELETE's WHERE, or the final SELECT's).

const USER_NOT_FOUND = 'CBU01';
const USER_INACTIVE = 'CBU02';

/** SQL: true for an existing, active user whose id is the parameter `param` (e.g. '$1'); raises otherwise. */
export const activeUser = (param: string): string =>
  `cashbook_check_user((SELECT active_user.is_active FROM users active_user WHERE active_user.id = ${param}))`;

/**
 * SimpleJWT's JWTAuthentication.get_user(): 401 "User not found" (user_not_found) or "User is
 * inactive" (user_inactive). Undefined for any other error.
 */
export function accountRefusal(err: unknown): AccountRefused | undefined {
  const code = errorCode(err);
  if (code === USER_NOT_FOUND) return new AccountRefused('User not found', 'user_not_found', { cause: err });
  if (code === USER_INACTIVE) return new AccountRefused('User is inactive', 'user_inactive', { cause: err });
  return undefined;
}
