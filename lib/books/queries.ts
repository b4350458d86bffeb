import type { z } from 'zod';
import { errorCode, type Db } from '../db.js';
import { Conflict, InvalidToken, NotFound } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { withSavedResponse, type SaveAs } from '../idempotency.js';
import { isoTimestamp, money, selectList } from '../sql.js';
import { bookBalanceSql } from '../transactions/totals.js';
import { bookOutput, type CreateBookInput, type PatchBookInput } from './schema.js';

// Data access for books, each statement scoped to the user. A book's balance is the sum of its
// transactions (income minus expense): the sum of its year rows in book_totals.

export type Book = z.output<typeof bookOutput>;

const columns = selectList(bookOutput, {
  id: (b) => `${b}.id`,
  name: (b) => `${b}.name`,
  currency: (b) => `${b}.currency`,
  is_default: (b) => `${b}.is_default`,
  created_at: (b) => isoTimestamp(`${b}.created_at`),
  balance: (b) => money(bookBalanceSql(`${b}.id`)),
});

export async function insertBook(
  db: Db,
  user: Caller,
  input: CreateBookInput & { currency: string },
  save?: SaveAs,
  /** Chosen by the caller before sending, to find the row if the connection is lost. */
  id?: string,
): Promise<Book> {
  // A new book has no transactions: its balance needs no lookup.
  const insert = {
    text: `INSERT INTO books AS b (id, user_id, name, currency) SELECT COALESCE($4::uuid, gen_random_uuid()), $1, $2, $3 WHERE ${activeUser('$1', '$5')}
       RETURNING ${columns('b', { balance: `'0.00'` })}`,
    values: [user.id, input.name, input.currency, id ?? null, user.issuedAt],
  };
  const { text, values } = save ? withSavedResponse(insert, save) : insert;
  try {
    const { rows } = await db.query<Book>(text, values);
    return rows[0]!;
  } catch (err) {
    if (errorCode(err) === '23503') throw new InvalidToken('User not found', { cause: err });
    throw err;
  }
}

export async function findBook(db: Db, user: Caller, id: string): Promise<Book> {
  const { rows } = await db.query<Book>(
    `SELECT ${columns('b')} FROM books b WHERE b.id = $1 AND b.user_id = $2 AND ${activeUser('$2', '$3')}`,
    [id, user.id, user.issuedAt],
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/** Oldest first (the default book, created with the account, comes first). */
export async function listBooks(
  db: Db,
  user: Caller,
  { page, page_size }: { page: number; page_size: number },
): Promise<{ count: number; rows: Book[] }> {
  const { rows } = await db.query<Book & { total: string }>(
    `SELECT ${columns('b')}, count(*) OVER () AS total FROM books b WHERE b.user_id = $1 AND ${activeUser('$1', '$4')}
     ORDER BY b.created_at, b.id LIMIT $2 OFFSET $3`,
    [user.id, page_size, (page - 1) * page_size, user.issuedAt],
  );
  const count = rows[0] ? Number(rows[0].total) : 0;
  return { count, rows: rows.map(({ total: _total, ...row }) => row) };
}

export async function updateBook(db: Db, user: Caller, id: string, changes: PatchBookInput): Promise<Book> {
  const values: unknown[] = [id, user.id, user.issuedAt];
  const sets: string[] = [];
  for (const column of ['name', 'currency'] as const) {
    if (changes[column] === undefined) continue;
    values.push(changes[column]);
    sets.push(`${column} = $${values.length}`);
  }
  // An empty PATCH still answers the book (and 404s another user's).
  const { rows } = await db.query<Book>(
    sets.length
      ? `UPDATE books b SET ${sets.join(', ')} WHERE b.id = $1 AND b.user_id = $2 AND ${activeUser('$2', '$3')} RETURNING ${columns('b')}`
      : `SELECT ${columns('b')} FROM books b WHERE b.id = $1 AND b.user_id = $2 AND ${activeUser('$2', '$3')}`,
    values,
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/**
 * One statement: finds the book, and deletes it when it is empty — or, with `force`, together
 * with its transactions (the other sides of its transfers become ordinary entries). The default book (where old clients' transactions go) is never deleted.
 * A transaction inserted concurrently makes the foreign key refuse the delete (409, not data loss).
 */
export async function deleteBook(db: Db, user: Caller, id: string, force: boolean): Promise<void> {
  let rows: Array<{ is_default: boolean; has_transactions: boolean; deleted: boolean }>;
  try {
    ({ rows } = await db.query(
      `WITH target AS (
         SELECT b.id, b.is_default, EXISTS (SELECT 1 FROM transactions t WHERE t.book_id = b.id) AS has_transactions
         FROM books b WHERE b.id = $1 AND b.user_id = $2
       ), allowed AS (
         SELECT id FROM target WHERE NOT is_default AND ($3 OR NOT has_transactions)
       ), locked AS (
         -- The book's entries and the other sides of its transfers, locked before any is written,
         -- each pair expense side first: the order of every statement writing a pair (a
         -- concurrent PATCH of a transfer would otherwise deadlock with this one).
         -- (Read through the book's indexes by its id $1, once it is allowed.)
         SELECT p.id, p.book_id FROM transactions p
         WHERE p.user_id = $2 AND EXISTS (SELECT 1 FROM allowed) AND p.id IN (
           SELECT e.id FROM transactions e WHERE e.book_id = $1
           UNION ALL
           SELECT o.id FROM transactions e JOIN transactions o ON o.transfer_id = e.transfer_id
           WHERE e.book_id = $1 AND e.transfer_id IS NOT NULL)
         ORDER BY p.transfer_id, p.type, p.id FOR UPDATE
       ), gone_transactions AS (
         DELETE FROM transactions t USING allowed
         WHERE t.book_id = allowed.id AND t.user_id = $2 AND t.id IN (SELECT id FROM locked) RETURNING t.transfer_id
       ), unlinked AS (
         -- The other side of a transfer with this book stays, as an ordinary entry: the money did
         -- leave (or enter) that other book.
         UPDATE transactions t SET transfer_id = NULL, updated_at = now()
         WHERE t.user_id = $2 AND t.id IN (SELECT id FROM locked WHERE book_id NOT IN (SELECT id FROM allowed))
           AND t.transfer_id IN (SELECT transfer_id FROM gone_transactions WHERE transfer_id IS NOT NULL)
       ), gone AS (
         DELETE FROM books b USING allowed WHERE b.id = allowed.id AND b.user_id = $2 RETURNING b.id
       )
       SELECT target.is_default, target.has_transactions, EXISTS (SELECT 1 FROM gone) AS deleted FROM target
       WHERE ${activeUser('$2', '$4')}`,
      [id, user.id, force, user.issuedAt],
    ));
  } catch (err) {
    if (errorCode(err) === '23503') throw bookNotEmpty();
    throw err;
  }
  const row = rows[0];
  if (!row) throw new NotFound();
  if (row.deleted) return;
  if (row.is_default) throw new Conflict('The default book cannot be deleted.');
  throw bookNotEmpty();
}

const bookNotEmpty = () =>
  new Conflict('This book still has transactions. Move or delete them first, or delete with ?force=true.');
