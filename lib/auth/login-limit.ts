import { isIPv6 } from 'node:net';
import type { LoginLimits } from '../config.js';
import type { Db } from '../db.js';
import { Throttled } from '../errors.js';
import type { Credentials } from './users.js';

// Brute-force limits on POST /api/token/ that lock no one out (table login_limits, migrations
// 1764000030000 and 1764000045000). A hard lock per username alone let anyone lock anyone out
// with 6 wrong passwords; here each attempt passes three gates, in the one statement a login
// needs:
//   pair    (source, username)  LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS, then 429 until the
//           window ends. It only ever holds back the guesser's own (source, account): the owner,
//           from any other source, is not affected, so a delay here would only give him more tries.
//   source  all usernames from one source: LOGIN_SOURCE_MAX_FAILURES per LOGIN_WINDOW_SECONDS
//           (password spraying, and one source cycling through usernames).
//   user    one username from all sources: LOGIN_USER_MAX_FAILURES per LOGIN_USER_WINDOW_SECONDS
//           (a distributed guess).
// The source and user gates apply to unknown sources only: a pair that has logged in within
// KNOWN_SOURCE_DAYS (the owner at home, a colleague at the office) passes them and is not counted
// on them. Past their limit they delay instead of blocking: one attempt from an unknown source
// per LOGIN_DELAY_SECONDS after the last one let through, doubling with each one let through, up
// to LOGIN_MAX_DELAY_SECONDS, until the window ends.
//
// Refused attempts count nowhere. Counting them (as the previous release did) let 21 requests
// from one address, most of them already refused by their pair, fill the user counter and lock
// the owner out of every new device for the hour, renewable every hour; and kept a source over
// its limit for as long as anyone behind it kept trying. Now only attempts whose password is
// actually checked are counted, so:
// - One address against one account adds at most LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS to
//   the user counter: 20 in the user's hour at the defaults (the user limit itself), 25 when the
//   two windows fall badly. So the owner's new device waits one LOGIN_DELAY_SECONDS (2 s), a
//   minute at worst (2 s doubled five times), however long the attack goes on.
// - Many addresses against one account: each address its 5, all together 20 an hour, then one
//   guess per delay (2 s, 4 s, ... 256 s, then one per 5 minutes): about 38 an hour at most
//   instead of 20, a bounded price for no hard block. What a botnet can still do is take every
//   slot as it opens, so the owner's new device may keep waiting (each 429 says how long);
//   her known sources never wait. A hard 429 would cost her the same with no slot at all, and
//   an attacker could renew it for ever; the delay grows only with guesses actually checked.
// - A shared office / CGNAT address where someone sprays: past 50 failures, users who have
//   logged in from there are not affected at all, and a user new to the address waits for the
//   next slot (the first one after LOGIN_DELAY_SECONDS) rather than for the window; the sprayer
//   gets a few more guesses per window (9 in 15 minutes at the defaults), not a blockade of
//   everyone behind the address that his own refused attempts keep renewing.
//
// Exact under bursts: each gate checks its counter on the row it locks (the latest value, not
// the statement's snapshot), so parallel guesses cannot slip past a limit, and a delay slot is
// taken once. The gates lock in the order pair, source, user (every login does: no deadlock)
// and each runs only if the previous one let the attempt through; a read of the snapshot first
// refuses, writing nothing, whatever the counters already refuse. So only an attempt racing
// with the one that filled a limit can be refused after an earlier gate counted it: on its
// pair or its source (the guesser's own), never on the account's counter. A success refunds
// its attempt and clears its pair's failures. Unknown usernames are counted exactly like known
// ones. A source is an IPv4 address or an IPv6 /64 (one subscriber's block). A success whose
// user's hash changed (a password change) or who was deactivated while the password was being
// checked is a failure: it keeps its counts and gets no tokens.
//
// Old-password guesses on POST /api/password/change/ (key pwchange:<user id>) pass the pair
// gate's rule: LOGIN_MAX_FAILURES per LOGIN_WINDOW_SECONDS, then 429 until the window ends,
// counted on the locked row in the statement that reads the hash; refused guesses count
// nowhere, a change clears the counter. Without it a stolen access token (5 minutes) or
// refresh token (a day) was a password oracle outside every limit here, and one right guess
// changes the password and logs the owner out everywhere. Only a holder of a valid token of
// the account reaches its counter: the thief can fill it (the owner's own change then waits
// for the window; "log out everywhere" needs no password), no one else can.
//
// Plain statements: no advisory locks, no SET (RDS Proxy would pin the session).

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

interface AttemptRow {
  /** Seconds until the counters as this statement found them let an attempt through (<= 0: now). */
  wait: number;
  /** Every gate counted the attempt: its password may be checked. */
  admitted: boolean;
  /** The pair has logged in before: the source and user gates were not involved. */
  known: boolean | null;
  id: string | null;
  password_hash: string;
  is_active: boolean;
}

export interface LoginLookup {
  user: Credentials | undefined;
  /** The source and user counters counted this attempt (a success refunds it there). */
  countedWide: boolean;
}

/** A counter's window is still running (`l` its row, `seconds` its length). */
const live = (seconds: string) => `l.window_started > now() - make_interval(secs => ${seconds})`;

/** Counts one attempt on a counter row: a new window if the last one has ended. */
const bump = (seconds: string) => `
         attempts = CASE WHEN ${live(seconds)} THEN l.attempts + 1 ELSE 1 END,
         window_started = CASE WHEN ${live(seconds)} THEN l.window_started ELSE now() END,
         window_seconds = ${seconds},
         last_attempt = now()`;

/**
 * SQL: counts one attempt on the counter `key` (window `seconds`) for the row `source` yields, if
 * the counter's row, locked, is under `max` in its window: its latest value, not the statement's
 * snapshot, so parallel attempts cannot slip past the limit. A refused attempt writes nothing.
 * Followed by a RETURNING: a row back means the attempt was counted.
 */
const hardGate = (key: string, seconds: string, max: string, source: string) => `
       INSERT INTO login_limits AS l (key, attempts, window_seconds, last_attempt)
       SELECT ${key}, 1, ${seconds}, now() FROM ${source}
       ON CONFLICT (key) DO UPDATE SET ${bump('EXCLUDED.window_seconds')}
       WHERE NOT ${live('EXCLUDED.window_seconds')} OR l.attempts < ${max}`;

/** The Throttled answer for an attempt the gates did not count: the snapshot's wait, else a second. */
function refusal(wait: number): Throttled {
  // Refused by the snapshot: its wait. Refused by a gate only (a race with the attempt that
  // filled a limit): a second, which the next try answers exactly.
  return new Throttled(wait > 0 ? wait : 1);
}

/**
 * Whether a source or user counter (row `l`) lets an unknown source through now: under its
 * limit, or its delay since the last attempt it let through has passed.
 */
const wideGateOpen = (seconds: string, max: string) => `
         NOT ${live(seconds)} OR l.attempts < ${max} OR l.last_attempt IS NULL
         OR l.last_attempt <= now() - make_interval(secs => least($11::float8 * power(2::float8, least(l.attempts - ${max}, 40)), $12::float8))`;

/**
 * Passes this attempt through the three gates and reads the user's credentials, in one
 * statement; throws Throttled when a gate refuses (before any password work), having counted
 * nothing.
 */
export async function countAttempt(db: Db, keys: LoginKeys, username: string, limits: LoginLimits): Promise<LoginLookup> {
  const { rows } = await db.query<AttemptRow>(
    `WITH purge AS (
       DELETE FROM login_limits WHERE key IN (
         SELECT key FROM login_limits
          WHERE window_started < now() - make_interval(secs => window_seconds)
            AND (last_success IS NULL OR last_success < now() - make_interval(days => $7))
            AND key NOT IN ($1, $2, $3)
          LIMIT ${PURGE_BATCH}
          -- Concurrent logins purge disjoint rows and never wait on each other (no deadlock).
          FOR UPDATE SKIP LOCKED)
     ), counter (key, window_seconds, max_attempts, delayed) AS (
       VALUES ($1::text, $4::int, $8::int, false), ($2, $4, $9, true), ($3, $5, $10, true)
     ), seen AS (
       -- The counters as the snapshot has them, and how long each makes this attempt wait.
       SELECT c.key, COALESCE(l.last_success > now() - make_interval(days => $7), false) AS known,
              CASE
                WHEN l.key IS NULL OR NOT ${live('c.window_seconds')} OR l.attempts < c.max_attempts THEN 0
                WHEN NOT c.delayed THEN window_left
                WHEN l.last_attempt IS NULL THEN 0
                ELSE least(window_left, least($11::float8 * power(2::float8, least(l.attempts - c.max_attempts, 40)), $12::float8)
                                        - EXTRACT(EPOCH FROM now() - l.last_attempt)::float8)
              END AS wait
         FROM counter c
         LEFT JOIN login_limits l USING (key)
         CROSS JOIN LATERAL (SELECT c.window_seconds - EXTRACT(EPOCH FROM now() - l.window_started)::float8 AS window_left) w
     ), pre AS (
       SELECT greatest(max(wait) FILTER (WHERE key = $1),
                       CASE WHEN bool_or(known) FILTER (WHERE key = $1) THEN 0 ELSE max(wait) FILTER (WHERE key <> $1) END) AS wait
         FROM seen
     ), pair_gate AS (
       ${hardGate('$1', '$4', '$8', 'pre WHERE pre.wait <= 0')}
       RETURNING COALESCE(l.last_success > now() - make_interval(days => $7), false) AS known
     ), source_gate AS (
       INSERT INTO login_limits AS l (key, attempts, window_seconds, last_attempt)
       SELECT $2, 1, $4, now() FROM pair_gate WHERE NOT pair_gate.known
       ON CONFLICT (key) DO UPDATE SET ${bump('EXCLUDED.window_seconds')}
       WHERE ${wideGateOpen('EXCLUDED.window_seconds', '$9')}
       RETURNING l.key
     ), user_gate AS (
       INSERT INTO login_limits AS l (key, attempts, window_seconds, last_attempt)
       SELECT $3, 1, $5, now() FROM source_gate
       ON CONFLICT (key) DO UPDATE SET ${bump('EXCLUDED.window_seconds')}
       WHERE ${wideGateOpen('EXCLUDED.window_seconds', '$10')}
       RETURNING l.key
     )
     SELECT pre.wait, COALESCE(p.known OR u.key IS NOT NULL, false) AS admitted, p.known, usr.id, usr.password_hash, usr.is_active
       FROM pre
       LEFT JOIN pair_gate p ON true
       LEFT JOIN user_gate u ON true
       LEFT JOIN users usr ON usr.username = $6::varchar`,
    [
      keys.pair,
      keys.source,
      keys.user,
      limits.windowSeconds,
      limits.userWindowSeconds,
      username,
      KNOWN_SOURCE_DAYS,
      limits.maxFailures,
      limits.sourceMaxFailures,
      limits.userMaxFailures,
      limits.delaySeconds,
      limits.maxDelaySeconds,
    ],
  );
  const row = rows[0]!;
  if (!row.admitted) throw refusal(row.wait);
  const user = row.id === null ? undefined : { id: Number(row.id), password_hash: row.password_hash, is_active: row.is_active };
  return { user, countedWide: !row.known };
}

/**
 * After a password check that passed, before any token is issued: true if the user is still
 * active with the hash that was checked; then the pair's failures are cleared and its source
 * becomes known, and the attempt is refunded on the source and user counters if they counted
 * it. False, changing nothing, when a password change (or a deactivation) committed while the
 * password was being checked: tokens issued now would postdate its revocation and stay valid
 * although the old password was used. The rows are locked in key order first, the gates'
 * order (pair, source, user): a plain multi-row UPDATE takes them in whatever order its scan
 * finds them, and deadlocked with concurrent logins.
 */
export async function recordSuccess(db: Db, keys: LoginKeys, countedWide: boolean, checked: Pick<Credentials, 'id' | 'password_hash'>): Promise<boolean> {
  const { rows } = await db.query<{ current: boolean }>(
    `WITH still AS (
       SELECT EXISTS (SELECT FROM users WHERE id = $5 AND password_hash = $6 AND is_active) AS current
     ), locked AS (
       SELECT key FROM login_limits
        WHERE (key = $1 OR ($4 AND key IN ($2, $3))) AND (SELECT current FROM still)
        ORDER BY key FOR UPDATE
     ), refunded AS (
       UPDATE login_limits l SET
         attempts = CASE WHEN l.key = $1 THEN 0 ELSE greatest(l.attempts - 1, 0) END,
         last_success = CASE WHEN l.key = $1 THEN now() ELSE l.last_success END
         FROM locked WHERE l.key = locked.key
     )
     SELECT current FROM still`,
    [keys.pair, keys.source, keys.user, countedWide, checked.id, checked.password_hash],
  );
  return rows[0]!.current;
}

/** The counter of old-password guesses on POST /api/password/change/ for one user. */
export const passwordChangeKey = (userId: number): string => `pwchange:${userId}`;

/**
 * SQL: the CTEs `guess_seen` (`wait`: seconds until the counter `key`, as the snapshot has it,
 * lets a guess through; <= 0 now) and `guess_gate` (a row when this guess was counted), for one
 * guess under the pair gate's rule: `max` per window of `seconds` (integer parameters), then
 * refused until the window ends, writing nothing. The statement selects both and hands them to
 * admitGuess() before any password work.
 */
export const guessGate = (key: string, seconds: string, max: string): string => `
     guess_seen AS (
       SELECT CASE WHEN l.key IS NULL OR NOT ${live(seconds)} OR l.attempts < ${max} THEN 0
                   ELSE ${seconds} - EXTRACT(EPOCH FROM now() - l.window_started)::float8 END AS wait
         FROM (VALUES (1)) AS one LEFT JOIN login_limits l ON l.key = ${key}
     ), guess_gate AS (
       ${hardGate(key, seconds, max, 'guess_seen WHERE guess_seen.wait <= 0')}
       RETURNING l.key
     )`;

/** Throws Throttled unless guessGate() counted the guess. */
export function admitGuess(row: { wait: number; admitted: boolean }): void {
  if (!row.admitted) throw refusal(row.wait);
}

/** SQL: a statement's UPDATE that clears the counter `key` when `condition` holds (a success). */
export const clearGuesses = (key: string, condition: string): string =>
  `UPDATE login_limits SET attempts = 0 WHERE key = ${key} AND ${condition}`;

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
