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
  AS x(id bigint, username text, email text, password text, date_joined text, is_active boolean, last_login text)`;

/**
 * One statement per batch: inserts the users that do not exist yet (by id or by username: ON
 * CONFLICT DO NOTHING, so re-running the import changes nothing) and a default book for each new
 * one. Returns how many users were created. Then moves the id sequence past the imported ids,
 * so users without an id (and later registrations) never collide with them.
 */
export async function importUsers(db: Db, users: readonly DjangoUser[], currency: string): Promise<number> {
  if (users.length === 0) return 0;
  const { rows } = await db.query<{ created: string }>(
    `WITH input AS (${INPUT}), created AS (
       INSERT INTO users (id, username, email, password_hash, date_joined, is_active, last_login)
       SELECT COALESCE(id, nextval(pg_get_serial_sequence('users', 'id'))), username, email, password,
              COALESCE(NULLIF(date_joined, '')::timestamptz, now()), is_active, NULLIF(last_login, '')::timestamptz
       FROM input
       ON CONFLICT DO NOTHING
       RETURNING id
     ), books AS (
       INSERT INTO books (user_id, name, currency, is_default) SELECT id, $2, $3, true FROM created
     )
     SELECT count(*) AS created FROM created`,
    [JSON.stringify(users), DEFAULT_BOOK_NAME, currency],
  );
  await moveUserIdsPastImported(db);
  return Number(rows[0]?.created ?? 0);
}

export interface UpsertCounts {
  inserted: number;
  updated: number;
}

/**
 * The database import's write: users by id, inserted or — when a field changed in the old
 * database — updated (an unchanged row is not touched, so a second run writes nothing); every
 * user without a default book gets one. One statement, so a batch is written whole or not at all.
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
       WHERE (u.username, u.email, u.password_hash, u.date_joined, u.is_active, u.last_login)
         IS DISTINCT FROM (excluded.username, excluded.email, excluded.password_hash, excluded.date_joined,
                           excluded.is_active, excluded.last_login)
       RETURNING xmax = 0 AS inserted
     ), books AS (
       INSERT INTO books (user_id, name, currency, is_default)
       SELECT i.id, $2, $3, true FROM input i
       WHERE NOT EXISTS (SELECT 1 FROM books b WHERE b.user_id = i.id AND b.is_default)
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
    [JSON.stringify(users), DEFAULT_BOOK_NAME, currency],
  );
  return { inserted: Number(rows[0]?.inserted ?? 0), updated: Number(rows[0]?.updated ?? 0) };
}

/**
 * Users of the batch whose username belongs to another id here (someone registered it on the new
 * backend): writing them would fail the whole batch on the unique username.
 */
export async function usernameClashes(db: Db, users: readonly DjangoUser[]): Promise<Map<number, number>> {
  if (users.length === 0) return new Map();
  const { rows } = await db.query<{ id: string; taken_by: string }>(
    `SELECT i.id, u.id AS taken_by FROM unnest($1::bigint[], $2::text[]) AS i(id, username)
     JOIN users u ON u.username = i.username AND u.id <> i.id`,
    [users.map((u) => u.id), users.map((u) => u.username)],
  );
  return new Map(rows.map((r) => [Number(r.id), Number(r.taken_by)]));
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
