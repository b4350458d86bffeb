import type { Db } from '../db.js';
import type { Credentials } from './users.js';

// Brute-force limit on POST /api/token/: failed logins are counted per username in PostgreSQL
// (login_failures), for unknown usernames exactly as for known ones. Plain statements only:
// no advisory locks, no SET (RDS Proxy would pin the session).

export interface LoginLookup {
  user: Credentials | undefined;
  /** Attempts in the current window, this one included (counted before the password check). */
  attempts: number;
  /** Seconds until the current window ends. */
  retryAfterSeconds: number;
}

/**
 * Counts this attempt and reads the user's credentials, in the one statement a login needs.
 * Counting BEFORE the password is checked keeps the limit exact under concurrency: parallel
 * guesses each take a number atomically, so a burst cannot slip past the limit. A successful
 * login then deletes the row (clearFailures). It also deletes a few long-expired rows of other
 * usernames, so sprayed names do not pile up.
 */
export async function countAttempt(db: Db, username: string, windowSeconds: number): Promise<LoginLookup> {
  const { rows } = await db.query<Omit<Credentials, 'id'> & { id: string | null; attempts: number; retry_after: number }>(
    `WITH purge AS (
       DELETE FROM login_failures WHERE username IN (
         SELECT username FROM login_failures
          WHERE window_started < now() - make_interval(secs => $2) AND username <> $1 LIMIT 20)
     ), attempt AS (
       INSERT INTO login_failures AS f (username, failures) VALUES ($1, 1)
       ON CONFLICT (username) DO UPDATE SET
         failures = CASE WHEN f.window_started > now() - make_interval(secs => $2) THEN f.failures + 1 ELSE 1 END,
         window_started = CASE WHEN f.window_started > now() - make_interval(secs => $2) THEN f.window_started ELSE now() END
       RETURNING failures, window_started
     )
     SELECT u.id, u.password_hash, u.is_active, a.failures AS attempts,
            EXTRACT(EPOCH FROM a.window_started + make_interval(secs => $2) - now())::float8 AS retry_after
       FROM attempt a LEFT JOIN users u ON u.username = $1::varchar`,
    [username, windowSeconds],
  );
  const row = rows[0]!;
  return {
    user: row.id === null ? undefined : { id: Number(row.id), password_hash: row.password_hash, is_active: row.is_active },
    attempts: row.attempts,
    retryAfterSeconds: Math.max(1, Math.ceil(row.retry_after)),
  };
}

export async function clearFailures(db: Db, username: string): Promise<void> {
  await db.query('DELETE FROM login_failures WHERE username = $1', [username]);
}
