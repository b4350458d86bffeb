import { isIPv6 } from 'node:net';
import type { LoginLimits } from '../config.js';
import type { Db } from '../db.js';
import { Throttled } from '../errors.js';
import type { Credentials } from './users.js';

// Brute-force limits on POST /api/token/ that lock no one out (table login_limits, migration
// 1764000030000). A hard lock per username alone let anyone lock anyone out with 6 wrong
// passwords; here each attempt is counted three ways, in the one statement a login needs:
//   pair    (source, username)  tight: LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS. Guessing one
//           account from one source stops there; the owner, from any other source, is not affected.
//   source  all usernames from one source: LOGIN_SOURCE_MAX_FAILURES per LOGIN_WINDOW_SECONDS
//           (password spraying, and one source cycling through usernames).
//   user    one username from all sources: LOGIN_USER_MAX_FAILURES per LOGIN_USER_WINDOW_SECONDS
//           (a distributed guess). Past it only UNKNOWN sources wait: a source that has logged
//           in to this account within KNOWN_SOURCE_DAYS (the owner's) still gets in, so the
//           slow global limit is not a lock-out either.
// Attempts are counted before the password is checked (parallel guesses each take a number
// atomically, so a burst cannot slip past a limit); a success refunds its attempt and clears
// its pair's failures. Unknown usernames are counted exactly like known ones. A source is an
// IPv4 address or an IPv6 /64 (one subscriber's block). Plain statements: no advisory locks,
// no SET (RDS Proxy would pin the session).

const KNOWN_SOURCE_DAYS = 30;
/** Long-expired rows of other keys deleted per attempt, so sprayed names do not pile up. */
const PURGE_BATCH = 20;


/** The counter keys of one login attempt. */
export interface LoginKeys {
  pair: string;
  source: string;
  user: string;
}

export function loginKeys(source: string, username: string): LoginKeys {
  return { pair: `pair:${source} ${username}`, source: `source:${source}`, user: `user:${username}` };
}

/** The counting key of a client address: IPv4 as is, IPv6 by its /64. */
export function sourceKey(ip: string | undefined): string {
  if (!ip) return 'unknown';
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped) return mapped[1]!;
  if (!isIPv6(ip)) return ip;
  const [head = '', tail] = ip.toLowerCase().split('::');
  const groups = (part: string | undefined) => (part ? part.split(':').flatMap((g) => (g.includes('.') ? ['0', '0'] : [g])) : []);
  const left = groups(head);
  const right = groups(tail);
  const full = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right];
  return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

interface CounterRow {
  key: string;
  attempts: number;
  retry_after: number;
  known: boolean;
  id: string | null;
  password_hash: string;
  is_active: boolean;
}

export interface LoginLookup {
  user: Credentials | undefined;
}

/**
 * Counts this attempt on its three counters and reads the user's credentials, in one statement;
 * throws Throttled when a limit is passed (before any password work).
 */
export async function countAttempt(db: Db, keys: LoginKeys, username: string, limits: LoginLimits): Promise<LoginLookup> {
  const { rows } = await db.query<CounterRow>(
    `WITH input (key, window_seconds) AS (
       VALUES ($1::text, $4::int), ($2::text, $4::int), ($3::text, $5::int)
     ), purge AS (
       DELETE FROM login_limits WHERE key IN (
         SELECT key FROM login_limits
          WHERE window_started < now() - make_interval(secs => window_seconds)
            AND (last_success IS NULL OR last_success < now() - make_interval(days => $7))
            AND key NOT IN ($1, $2, $3)
          LIMIT ${PURGE_BATCH}
          -- Concurrent logins purge disjoint rows and never wait on each other (no deadlock).
          FOR UPDATE SKIP LOCKED)
     ), attempt AS (
       INSERT INTO login_limits AS l (key, attempts, window_seconds)
       SELECT key, 1, window_seconds FROM input
       ON CONFLICT (key) DO UPDATE SET
         attempts = CASE WHEN l.window_started > now() - make_interval(secs => EXCLUDED.window_seconds) THEN l.attempts + 1 ELSE 1 END,
         window_started = CASE WHEN l.window_started > now() - make_interval(secs => EXCLUDED.window_seconds) THEN l.window_started ELSE now() END,
         window_seconds = EXCLUDED.window_seconds
       RETURNING l.key, l.attempts,
         EXTRACT(EPOCH FROM l.window_started + make_interval(secs => l.window_seconds) - now())::float8 AS retry_after,
         COALESCE(l.last_success > now() - make_interval(days => $7), false) AS known
     )
     SELECT a.*, u.id, u.password_hash, u.is_active
       FROM attempt a LEFT JOIN users u ON u.username = $6::varchar`,
    [keys.pair, keys.source, keys.user, limits.windowSeconds, limits.userWindowSeconds, username, KNOWN_SOURCE_DAYS],
  );
  const counter = (key: string) => rows.find((r) => r.key === key)!;
  const [pair, source, user] = [counter(keys.pair), counter(keys.source), counter(keys.user)];
  const over =
    (pair.attempts > limits.maxFailures && pair) ||
    (source.attempts > limits.sourceMaxFailures && source) ||
    (user.attempts > limits.userMaxFailures && !pair.known && user);
  if (over) throw new Throttled(over.retry_after);
  return { user: pair.id === null ? undefined : { id: Number(pair.id), password_hash: pair.password_hash, is_active: pair.is_active } };
}

/** After a successful login: the pair's failures are cleared and its source becomes known; the attempt is refunded. */
export async function recordSuccess(db: Db, keys: LoginKeys): Promise<void> {
  await db.query(
    `UPDATE login_limits SET
       attempts = CASE WHEN key = $1 THEN 0 ELSE greatest(attempts - 1, 0) END,
       last_success = CASE WHEN key = $1 THEN now() ELSE last_success END
     WHERE key IN ($1, $2, $3)`,
    [keys.pair, keys.source, keys.user],
  );
}

/**
 * Registrations per source (REGISTER_MAX_PER_SOURCE per REGISTER_WINDOW_SECONDS): register must
 * say "A user with that username already exists." (DRF clients show it), so probing usernames
 * through it is slowed down instead. Throws Throttled past the limit.
 */
export async function countRegistration(db: Db, source: string, limit: { max: number; windowSeconds: number }): Promise<void> {
  const { rows } = await db.query<{ attempts: number; retry_after: number }>(
    `INSERT INTO login_limits AS l (key, attempts, window_seconds) VALUES ($1, 1, $2)
     ON CONFLICT (key) DO UPDATE SET
       attempts = CASE WHEN l.window_started > now() - make_interval(secs => $2) THEN l.attempts + 1 ELSE 1 END,
       window_started = CASE WHEN l.window_started > now() - make_interval(secs => $2) THEN l.window_started ELSE now() END,
       window_seconds = $2
     RETURNING l.attempts, EXTRACT(EPOCH FROM l.window_started + make_interval(secs => l.window_seconds) - now())::float8 AS retry_after`,
    [`register:${source}`, limit.windowSeconds],
  );
  const row = rows[0]!;
  if (row.attempts > limit.max) throw new Throttled(row.retry_after);
}
