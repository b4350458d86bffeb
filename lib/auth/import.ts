import { parseCsv } from '../csv.js';
import type { Db } from '../db.js';
import { passwordWorkProblem } from './passwords.js';
import { parseUserId } from '../ids.js';
import { DEFAULT_BOOK_NAME } from './users.js';

// Users from the old Django backend's auth_user, keeping their ids (tokens the old backend
// issued carry them). Passwords stay in Django's format (pbkdf2_sha256$...) and are upgraded to
// scrypt at each user's first login. Two ways in: a CSV export (`npm run import-users`) or the
// old database itself (`npm run import-django`, scripts/lib/django-*.ts).

export interface DjangoUser {
  /** auth_user.id; absent only in a CSV export without an id column (a new id is assigned). */
  id?: number;
  username: string;
  email: string;
  password: string;
  /** As PostgreSQL prints a timestamptz (kept as text: no precision lost on the way). */
  date_joined: string;
  is_active: boolean;
  last_login?: string | null;
}

const COLUMNS = ['username', 'email', 'password', 'date_joined', 'is_active'] as const;
const TRUE = new Set(['t', 'true', '1', 'yes', 'y']);
const FALSE = new Set(['f', 'false', '0', 'no', 'n']);

/**
 * Parses the export; throws naming the line of the first bad row, including a hash whose cost is
 * out of bounds (pbkdf2 iterations above `maxIterations`, i.e. PASSWORD_PBKDF2_ITERATIONS).
 */
export function parseDjangoUsers(text: string, maxIterations: number): DjangoUser[] {
  const [header, ...rows] = parseCsv(text).filter((r) => r.some((cell) => cell !== ''));
  if (!header) return [];
  const index = Object.fromEntries(COLUMNS.map((c) => [c, header.indexOf(c)]));
  const missing = COLUMNS.filter((c) => index[c] === -1);
  if (missing.length) throw new Error(`CSV header lacks ${missing.join(', ')}`);
  const idIndex = header.indexOf('id');
  const lastLoginIndex = header.indexOf('last_login');
  return rows.map((row, i) => {
    const cell = (c: (typeof COLUMNS)[number]) => (row[index[c]!] ?? '').trim();
    const active = cell('is_active').toLowerCase();
    if (!cell('username') || !cell('password') || !(TRUE.has(active) || FALSE.has(active))) {
      throw new Error(`line ${i + 2}: needs a username, a password and is_active true/false`);
    }
    const problem = passwordWorkProblem(cell('password'), maxIterations);
    if (problem) throw new Error(`line ${i + 2}: refused: ${problem}`);
    const id = idIndex === -1 ? undefined : parseUserId((row[idIndex] ?? '').trim());
    if (idIndex !== -1 && id === undefined) throw new Error(`line ${i + 2}: id must be a positive integer`);
    const lastLogin = lastLoginIndex === -1 ? '' : (row[lastLoginIndex] ?? '').trim();
    return {
      ...(id === undefined ? {} : { id }),
      username: cell('username'),
      email: cell('email'),
      password: cell('password'),
      date_joined: cell('date_joined'),
      is_active: TRUE.has(active),
      last_login: lastLogin || null,
    };
  });
}

const INPUT = `SELECT * FROM jsonb_to_recordset($1::jsonb)
  AS x(n int, id bigint, username text, email text, password text, date_joined text, is_active boolean, last_login text)`;

/**
 * A user of the old backend who is not who this database holds under their id or their name:
 * someone registered here in the meantime (the takeover of a cutover: the same id 101 given to
 * two people by the two backends), or two old names that are one once normalised. Such a user is
 * left out with everything of theirs, and reported; never written over the account here.
 */
export interface Clash {
  /** The old backend's id (undefined for a CSV row without one). */
  id: number | undefined;
  /** The old backend's username, as it was (before NFKC). */
  username: string;
  /** Why, naming both accounts: ids, usernames and join dates — never a password. */
  reason: string;
}

/** Django's normalize_username, as registration and login apply it (lib/auth/schemas.ts). */
export const normalizeUsername = (username: string) => username.normalize('NFKC');

/**
 * Rows of `input` (usernames already normalised) that clash with this database: their id is
 * another account here (another name, or the same name joined at another time), or their name is
 * another id's here. Compared on normalize(username, NFKC), as the unique index
 * users_username_nfkc_key holds them. A CSV row without an id clashes by name only when its
 * date_joined says it is someone else.
 */
const CLASHES = `
  SELECT i.n, u.id::text AS here_id, u.username AS here_username, u.date_joined::text AS here_joined, true AS same_id
  FROM input i JOIN users u ON u.id = i.id
  WHERE normalize(u.username, NFKC) <> i.username
     OR u.date_joined <> COALESCE(NULLIF(i.date_joined, '')::timestamptz, u.date_joined)
  UNION ALL
  SELECT i.n, u.id::text, u.username, u.date_joined::text, false
  FROM input i JOIN users u ON normalize(u.username, NFKC) = i.username
  WHERE CASE WHEN i.id IS NULL THEN u.date_joined <> COALESCE(NULLIF(i.date_joined, '')::timestamptz, u.date_joined)
             ELSE u.id <> i.id END`;

interface ClashRow {
  n: number;
  here_id: string;
  here_username: string;
  here_joined: string;
  same_id: boolean;
}

const quoted = (name: string) => JSON.stringify(name);
const named = (name: string) => (normalizeUsername(name) === name ? quoted(name) : `${quoted(name)} (NFKC: ${quoted(normalizeUsername(name))})`);

function clashOf(user: DjangoUser, row: ClashRow): Clash {
  const reason = row.same_id
    ? `id ${user.id} is another account here: ${quoted(row.here_username)} joined ${row.here_joined}, ` +
      `not the old backend's ${named(user.username)} joined ${user.date_joined || '(unknown)'}`
    : `username ${named(user.username)} is taken here by user ${row.here_id} (${quoted(row.here_username)}, joined ${row.here_joined})`;
  return { id: user.id, username: user.username, reason };
}

/** The clash rows as Clashes keyed by position in `users` (a row's first reason wins: its id's). */
function clashesOf(users: readonly DjangoUser[], rows: readonly ClashRow[]): Map<number, Clash> {
  const out = new Map<number, Clash>();
  for (const row of rows) if (!out.has(row.n)) out.set(row.n, clashOf(users[row.n]!, row));
  return out;
}

/**
 * Old usernames that are one name once normalised: the first in `users` keeps it (the lowest id
 * for import-django, which reads in id order; the first row of a CSV), each later one is a clash — both cannot live here, where login finds a user by the
 * normalised name. Returns positions in `users`.
 */
export function normalisedDuplicates(users: readonly DjangoUser[]): Map<number, Clash> {
  const out = new Map<number, Clash>();
  const seen = new Map<string, DjangoUser>();
  users.forEach((u, n) => {
    const name = normalizeUsername(u.username);
    const first = seen.get(name);
    if (!first) return void seen.set(name, u);
    out.set(n, {
      id: u.id,
      username: u.username,
      reason: `username ${named(u.username)} is, once normalised, the same name as ` +
        `${first.id === undefined ? '' : `user ${first.id}'s `}${named(first.username)} of the old backend, which keeps it`,
    });
  });
  return out;
}

/** The users as the statements read them: a position, and the username normalised. */
const input = (users: readonly DjangoUser[]) =>
  JSON.stringify(users.map((u, n) => ({ ...u, n, username: normalizeUsername(u.username) })));

/**
 * One statement per batch: inserts the users that do not exist yet (ON CONFLICT DO NOTHING, so
 * re-running the import changes nothing) and a default book for each new one, and leaves out
 * the clashes (see CLASHES), which it returns. Then moves the id sequence past the imported ids,
 * so users without an id (and later registrations) never collide with them.
 */
export async function importUsers(
  db: Db,
  users: readonly DjangoUser[],
  currency: string,
): Promise<{ created: number; clashes: Clash[] }> {
  if (users.length === 0) return { created: 0, clashes: [] };
  const { rows } = await db.query<{ created: string; clashes: ClashRow[] | null }>(
    `WITH input AS (${INPUT}), clash AS (${CLASHES}), created AS (
       INSERT INTO users (id, username, email, password_hash, date_joined, is_active, last_login)
       SELECT COALESCE(id, nextval(pg_get_serial_sequence('users', 'id'))), username, email, password,
              COALESCE(NULLIF(date_joined, '')::timestamptz, now()), is_active, NULLIF(last_login, '')::timestamptz
       FROM input i WHERE NOT EXISTS (SELECT 1 FROM clash c WHERE c.n = i.n)
       ON CONFLICT DO NOTHING
       RETURNING id
     ), books AS (
       INSERT INTO books (user_id, name, currency, is_default) SELECT id, $2, $3, true FROM created
     )
     SELECT (SELECT count(*) FROM created) AS created, (SELECT json_agg(clash) FROM clash) AS clashes`,
    [input(users), DEFAULT_BOOK_NAME, currency],
  );
  await moveUserIdsPastImported(db);
  return { created: Number(rows[0]?.created ?? 0), clashes: [...clashesOf(users, rows[0]?.clashes ?? []).values()] };
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
}

/**
 * The database import's write: users by id, inserted or — when a field changed in the old
 * database — updated (an unchanged row is not touched, so a second run writes nothing); every
 * user without a default book gets one. One statement, so a batch is written whole or not at all.
 * `users` are those userClashes left: the update's own condition (same name, same date_joined)
 * still never writes one account over another, should someone register between the two.
 */
export async function upsertUsers(db: Db, users: readonly DjangoUser[], currency: string): Promise<UpsertCounts> {
  if (users.length === 0) return { inserted: 0, updated: 0 };
  const { rows } = await db.query<{ inserted: string; updated: string }>(
    `WITH input AS (${INPUT}), changed AS (
       -- Unchanged users are left out before the INSERT: ON CONFLICT would lock (write) each of them.
       SELECT * FROM input i WHERE NOT EXISTS (
         SELECT 1 FROM users u WHERE u.id = i.id
           AND (u.username, u.email, u.password_hash, u.date_joined, u.is_active, u.last_login)
             IS NOT DISTINCT FROM (i.username, i.email, i.password, i.date_joined::timestamptz, i.is_active, i.last_login::timestamptz))
     ), written AS (
       INSERT INTO users AS u (id, username, email, password_hash, date_joined, is_active, last_login)
       SELECT id, username, email, password, date_joined::timestamptz, is_active, last_login::timestamptz FROM changed
       ON CONFLICT (id) DO UPDATE SET
         username = excluded.username, email = excluded.email, password_hash = excluded.password_hash,
         date_joined = excluded.date_joined, is_active = excluded.is_active, last_login = excluded.last_login
       WHERE normalize(u.username, NFKC) = excluded.username AND u.date_joined = excluded.date_joined
         AND (u.username, u.email, u.password_hash, u.date_joined, u.is_active, u.last_login)
         IS DISTINCT FROM (excluded.username, excluded.email, excluded.password_hash, excluded.date_joined,
                           excluded.is_active, excluded.last_login)
       RETURNING xmax = 0 AS inserted
     ), books AS (
       INSERT INTO books (user_id, name, currency, is_default)
       SELECT i.id, $2, $3, true FROM input i
       WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.user_id = i.id AND b.is_default)
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
    [input(users), DEFAULT_BOOK_NAME, currency],
  );
  return { inserted: Number(rows[0]?.inserted ?? 0), updated: Number(rows[0]?.updated ?? 0) };
}

/**
 * The users of the batch that clash with this database (see CLASHES), by their position in
 * `users`: one statement, however large the batch.
 */
export async function userClashes(db: Db, users: readonly DjangoUser[]): Promise<Map<number, Clash>> {
  if (users.length === 0) return new Map();
  const { rows } = await db.query<ClashRow>(`WITH input AS (${INPUT}) ${CLASHES}`, [input(users)]);
  return clashesOf(users, rows);
}

/**
 * Imported ids were given explicitly, so the identity sequence did not move: set it to the
 * highest id (never backwards), or the next registration would collide with an imported user.
 */
export async function moveUserIdsPastImported(db: Db): Promise<void> {
  await db.query(
    `SELECT setval(pg_get_serial_sequence('users', 'id'), max(id)) FROM users
     HAVING max(id) > COALESCE((SELECT s.last_value FROM pg_sequences s
       WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass = pg_get_serial_sequence('users', 'id')::regclass), 0)`,
  );
}
