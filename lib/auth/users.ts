import type { z } from 'zod';
import { errorCode, type Db } from '../db.js';
import { ValidationError } from '../errors.js';
import { isoTimestamp, selectList } from '../sql.js';
import { activeUser, type Caller } from './active-user.js';
import { userOutput } from './schemas.js';

export type PublicUser = z.output<typeof userOutput>;

const columns = selectList(userOutput, {
  id: (u) => `${u}.id`,
  username: (u) => `${u}.username`,
  email: (u) => `${u}.email`,
  date_joined: (u) => isoTimestamp(`${u}.date_joined`),
});

/** The id is a bigint, which pg reads as text. */
type UserRow = Omit<PublicUser, 'id'> & { id: string };
const toPublic = (row: UserRow): PublicUser => ({ ...row, id: Number(row.id) });

export const DEFAULT_BOOK_NAME = 'Cashbook';

/** The user and their default book, in one statement (so one transaction). */
export async function insertUser(
  db: Db,
  user: { username: string; email: string; passwordHash: string; currency: string },
): Promise<PublicUser> {
  try {
    const { rows } = await db.query<UserRow>(
      `WITH u AS (
         INSERT INTO users (username, email, password_hash) VALUES ($1, $2, $3) RETURNING ${columns('users')}
       ), b AS (
         INSERT INTO books (user_id, name, currency, is_default) SELECT id, $4, $5, true FROM u
       )
       SELECT * FROM u`,
      [user.username, user.email, user.passwordHash, DEFAULT_BOOK_NAME, user.currency],
    );
    return toPublic(rows[0]!);
  } catch (err) {
    if (errorCode(err) === '23505') {
      throw new ValidationError({ username: ['A user with that username already exists.'] });
    }
    throw err;
  }
}

export async function findUser(db: Db, user: Caller): Promise<PublicUser | undefined> {
  const { rows } = await db.query<UserRow>(
    `SELECT ${columns('users')} FROM users WHERE id = $1 AND is_active AND ${activeUser('$1', '$2')}`,
    [user.id, user.issuedAt],
  );
  return rows[0] && toPublic(rows[0]);
}

export interface Credentials {
  id: number;
  password_hash: string;
  is_active: boolean;
}

/** Swaps a legacy (Django) hash for a scrypt one, unless the password changed meanwhile. */
export async function replacePasswordHash(db: Db, id: number, oldHash: string, newHash: string): Promise<void> {
  await db.query('UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2', [id, oldHash, newHash]);
}
