import type { Db } from '../db.js';
import type { Credentials } from './users.js';

// Brute-force limit on POST /api/token/: failed logins are counted per username in PostgreSQL
// (login_failures), for unknown usernames exactly as for known ones. Plain statements only:
// no advisory locks, no SET (RDS Proxy would pin the session).

export interface LoginLookup {
  user: Credentials | undefined;
  /** Failures in the current window. */
  failures: number;
  /** Seconds until the current window ends (0 without one). */
  retryAfterSeconds: number;
}

/** The user's credentials and the username's failures, in the one SELECT a login needs. */
export async function findLogin(db: Db, username: string, windowSeconds: number): Promise<LoginLookup> {
  const { rows } = await db.query<Credentials & { id: string | null; failures: number; retry_after: number }>(
    `SELECT u.id, u.password_hash, u.is_active,
            COALESCE(f.failures, 0) AS failures,
            COALESCE(EXTRACT(EPOCH FROM f.window_started + make_interval(secs => $2) - now()), 0)::float8 AS retry_after
       FROM (SELECT $1::varchar AS username) AS q
       LEFT JOIN users u ON u.username = q.username
       LEFT JOIN login_failures f ON f.username = q.username AND f.window_started > now() - make_interval(secs => $2)`,
    [username, windowSeconds],
  );
  const row = rows[0]!;
  return {
    user: row.id === null ? undefined : { id: row.id, password_hash: row.password_hash, is_active: row.is_active },
    failures: row.failures,
    retryAfterSeconds: row.retry_after,
  };
}

/**
 * Counts one failure: starts a window or adds to the open one, in one atomic upsert. It also
 * deletes a few long-expired rows of other usernames, so sprayed names do not pile up.
 */
export async function recordFailure(db: Db, username: string, windowSeconds: number): Promise<void> {
  await db.query(
    `WITH purge AS (
       DELETE FROM login_failures WHERE username IN (
         SELECT username FROM login_failures
          WHERE window_started < now() - make_interval(secs => $2) AND username <> $1 LIMIT 20))
     INSERT INTO login_failures AS f (username, failures) VALUES ($1, 1)
     ON CONFLICT (username) DO UPDATE SET
       failures = CASE WHEN f.window_started > now() - make_interval(secs => $2) THEN f.failures + 1 ELSE 1 END,
       window_started = CASE WHEN f.window_started > now() - make_interval(secs => $2) THEN f.window_started ELSE now() END`,
    [username, windowSeconds],
  );
}

export async function clearFailures(db: Db, username: string): Promise<void> {
  await db.query('DELETE FROM login_failures WHERE username = $1', [username]);
}
