import { errorCode } from '../db.js';
import { AccountRefused, InvalidToken } from '../errors.js';

// Revoked accounts and revoked tokens, checked inside the statement each data request already
// runs (no extra round trip). `activeUser('$1', '$2')` is a WHERE condition on no column of the
// statement's tables: PostgreSQL evaluates it once, before any row is read (a "One-Time
// Filter"), so it fires even when nothing would match; for a deleted or deactivated user, or an
// access token issued before the user's tokens_valid_after ("log out everywhere", a password
// change), it raises (migration 1764000040000), which aborts the whole statement, writes
// included. api.ts turns that error into SimpleJWT's answer. Put it in the WHERE of the
// statement's top-level query (an `INSERT ... SELECT ... WHERE`, an UPDATE/DELETE's WHERE, or
// the final SELECT's).

/** The authenticated caller: the access token's user and when the token was issued. */
export interface Caller {
  id: number;
  /** When the token was issued, epoch seconds (lib/auth/tokens.ts, TokenClaims.issuedAt). */
  issuedAt: number;
}

const USER_NOT_FOUND = 'CBU01';
const USER_INACTIVE = 'CBU02';
const TOKEN_REVOKED = 'CBU03';

/**
 * SQL: true for an existing, active user whose id is the parameter `user` (e.g. '$1') and whose
 * tokens issued at the parameter `issuedAt` are still valid; raises otherwise.
 */
export const activeUser = (user: string, issuedAt: string): string =>
  `(SELECT cashbook_check_access(active_user.is_active, active_user.tokens_valid_after, ${issuedAt}::float8)
     FROM (VALUES (1)) AS active_one LEFT JOIN users active_user ON active_user.id = ${user})`;

/**
 * SQL: the same check for a read, without PL/pgSQL: NULL for an existing, active user whose
 * tokens issued at `issuedAt` are still valid, otherwise the SQLSTATE cashbook_check_access
 * would raise. A statement selects it as a column and keeps its rows from the caller while it is
 * not NULL; the code turns it into the error (`refusalOf`). In direct mode every request is a
 * fresh backend, and loading PL/pgSQL into one to raise costs it ~2 ms of CPU (docs/capacity.md):
 * the transaction list, the request apps send most, pays that no longer.
 */
export const accessRefusal = (user: string, issuedAt: string): string =>
  `(SELECT CASE WHEN active_user.is_active IS NULL THEN '${USER_NOT_FOUND}'
                WHEN NOT active_user.is_active THEN '${USER_INACTIVE}'
                WHEN EXTRACT(EPOCH FROM active_user.tokens_valid_after)::float8 >= ${issuedAt}::float8 THEN '${TOKEN_REVOKED}' END
     FROM (VALUES (1)) AS active_one LEFT JOIN users active_user ON active_user.id = ${user})`;

/** The CTE `access`: the caller's refusal (accessRefusal), once for the whole statement. */
export const accessCte = (user: string, issuedAt: string): string => `access AS (SELECT ${accessRefusal(user, issuedAt)} AS refusal)`;

/** SQL: the refusal the CTE `access` holds (NULL: allowed). As a condition, `${REFUSAL} IS NULL`. */
export const REFUSAL = '(SELECT refusal FROM access)';

/** SimpleJWT's blacklist message, for a token revoked by "log out everywhere" or a password change. */
export const revokedToken = (options?: ErrorOptions) => new InvalidToken('Token is blacklisted', options);

/**
 * SimpleJWT's JWTAuthentication.get_user(): 401 "User not found" (user_not_found) or "User is
 * inactive" (user_inactive); a revoked token is SimpleJWT's blacklisted token (token_not_valid).
 * Undefined for any other error.
 */
export function accountRefusal(err: unknown): AccountRefused | InvalidToken | undefined {
  return refusalOf(errorCode(err), { cause: err });
}

/** The answer to a refusal code, raised by cashbook_check_access or selected by accessRefusal. */
export function refusalOf(code: string | null | undefined, options?: ErrorOptions): AccountRefused | InvalidToken | undefined {
  if (code === USER_NOT_FOUND) return new AccountRefused('User not found', 'user_not_found', options);
  if (code === USER_INACTIVE) return new AccountRefused('User is inactive', 'user_inactive', options);
  if (code === TOKEN_REVOKED) return revokedToken(options);
  return undefined;
}
