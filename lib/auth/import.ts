import { parseCsv } from '../csv.js';
import type { Db } from '../db.js';
import { passwordWorkProblem } from './passwords.js';
import { DEFAULT_BOOK_NAME } from './users.js';

// Users exported from Django's auth_user (CSV with a header row naming at least username,
// email, password, date_joined, is_active). Passwords stay in Django's format
// (pbkdf2_sha256$...) and are upgraded to scrypt at each user's first login.

export interface DjangoUser {
  username: string;
  email: string;
  password: string;
  date_joined: string;
  is_active: boolean;
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
  return rows.map((row, i) => {
    const cell = (c: (typeof COLUMNS)[number]) => (row[index[c]!] ?? '').trim();
    const active = cell('is_active').toLowerCase();
    if (!cell('username') || !cell('password') || !(TRUE.has(active) || FALSE.has(active))) {
      throw new Error(`line ${i + 2}: needs a username, a password and is_active true/false`);
    }
    const problem = passwordWorkProblem(cell('password'), maxIterations);
    if (problem) throw new Error(`line ${i + 2}: refused: ${problem}`);
    return {
      username: cell('username'),
      email: cell('email'),
      password: cell('password'),
      date_joined: cell('date_joined'),
      is_active: TRUE.has(active),
    };
  });
}

/**
 * One statement per batch: inserts the users that do not exist yet (ON CONFLICT (username)
 * DO NOTHING, so re-running the import changes nothing) and a default book for each new one.
 * Returns how many users were created.
 */
export async function importUsers(db: Db, users: readonly DjangoUser[], currency: string): Promise<number> {
  if (users.length === 0) return 0;
  const { rows } = await db.query<{ created: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS x(username text, email text, password text, date_joined text, is_active boolean)
     ), created AS (
       INSERT INTO users (username, email, password_hash, date_joined, is_active)
       SELECT username, email, password, COALESCE(NULLIF(date_joined, '')::timestamptz, now()), is_active FROM input
       ON CONFLICT (username) DO NOTHING
       RETURNING id
     ), books AS (
       INSERT INTO books (user_id, name, currency, is_default) SELECT id, $2, $3, true FROM created
     )
     SELECT count(*) AS created FROM created`,
    [JSON.stringify(users), DEFAULT_BOOK_NAME, currency],
  );
  return Number(rows[0]?.created ?? 0);
}
