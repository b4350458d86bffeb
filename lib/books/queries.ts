import type { z } from 'zod';
import { errorCode, type Db } from '../db.js';
import { Conflict, InvalidToken, NotFound } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { withSavedResponse, type SaveAs } from '../idempotency.js';
import { isoTimestamp, money, selectList } from '../sql.js';
import { bookBalanceSql } from '../transactions/totals.js';
import { roleIn, roleRequired, type Role } from './access.js';
import { bookOutput, type CreateBookInput, type PatchBookInput } from './schema.js';

// Data access for books. Who may see a book is its active members (book_members, read inside
// each statement: lib/books/access.ts); books.user_id is only the book's account. A book's
// balance is the sum of its transactions (income minus expense): the sum of its year rows in
// book_totals.

export type Book = z.output<typeof bookOutput>;

/** The caller's active membership of book `$1` (user `$2`): one row with their role, or none. */
const CALLER = `caller AS (SELECT m.role FROM book_members m WHERE m.book_id = $1 AND m.user_id = $2 AND m.status = 'active')`;

/**
 * A book's columns; `role` is the caller's, read from their membership row, aliased `m`.
 * `is_default` is the caller's own default book (where their entries without `book` go): a
 * default book is never handed on, so it is theirs exactly when they own it. Someone else's
 * default book shared with them is not their default.
 */
export const bookColumns = selectList(bookOutput, {
  id: (b) => `${b}.id`,
  name: (b) => `${b}.name`,
  currency: (b) => `${b}.currency`,
  is_default: (b) => `(${b}.is_default AND m.role = 'owner')`,
  created_at: (b) => isoTimestamp(`${b}.created_at`),
  balance: (b) => money(bookBalanceSql(`${b}.id`)),
  role: () => 'm.role',
});
const columns = bookColumns;

export async function insertBook(
  db: Db,
  user: Caller,
  input: CreateBookInput & { currency: string },
  save?: SaveAs,
  /** Chosen by the caller before sending, to find the row if the connection is lost. */
  id?: string,
): Promise<Book> {
  // A new book has no transactions: its balance needs no lookup. Its creator is its owner (the
  // trigger books_owner_insert adds the membership row).
  const insert = {
    text: `INSERT INTO books AS b (id, user_id, name, currency) SELECT COALESCE($4::uuid, gen_random_uuid()), $1, $2, $3 WHERE ${activeUser('$1', '$5')}
       RETURNING ${columns('b', { balance: `'0.00'`, role: `'owner'`, is_default: 'b.is_default' })}`,
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
    `SELECT ${columns('b')} FROM books b JOIN book_members m ON m.book_id = b.id AND m.user_id = $2 AND m.status = 'active'
     WHERE b.id = $1 AND ${activeUser('$2', '$3')}`,
    [id, user.id, user.issuedAt],
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/** Every book the caller is an active member of: their default book first, then oldest first. */
export async function listBooks(
  db: Db,
  user: Caller,
  { page, page_size }: { page: number; page_size: number },
): Promise<{ count: number; rows: Book[] }> {
  const { rows } = await db.query<Book & { total: string }>(
    `SELECT ${columns('b')}, count(*) OVER () AS total
     FROM book_members m JOIN books b ON b.id = m.book_id
     WHERE m.user_id = $1 AND m.status = 'active' AND ${activeUser('$1', '$4')}
     ORDER BY (b.is_default AND m.role = 'owner') DESC, b.created_at, b.id LIMIT $2 OFFSET $3`,
    [user.id, page_size, (page - 1) * page_size, user.issuedAt],
  );
  const count = rows[0] ? Number(rows[0].total) : 0;
  return { count, rows: rows.map(({ total: _total, ...row }) => row) };
}

/** Rename or re-currency a book: an owner or admin (403 for other members, 404 for anyone else). */
export async function updateBook(db: Db, user: Caller, id: string, changes: PatchBookInput): Promise<Book> {
  const values: unknown[] = [id, user.id, user.issuedAt];
  const sets: string[] = [];
  for (const column of ['name', 'currency'] as const) {
    if (changes[column] === undefined) continue;
    values.push(changes[column]);
    sets.push(`${column} = $${values.length}`);
  }
  const allowed = roleIn('m.role', 'manage');
  // An empty PATCH still answers the book (and refuses whoever may not change it).
  const { rows } = await db.query<Partial<Book> & { caller_role: Role }>(
    `WITH ${CALLER}, changed AS (
       ${sets.length
         ? `UPDATE books b SET ${sets.join(', ')} FROM caller m WHERE b.id = $1 AND ${allowed} RETURNING ${columns('b')}`
         : `SELECT ${columns('b')} FROM books b, caller m WHERE b.id = $1 AND ${allowed}`}
     )
     SELECT changed.*, caller.role AS caller_role FROM caller LEFT JOIN changed ON true WHERE ${activeUser('$2', '$3')}`,
    values,
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  const { caller_role: _role, ...book } = row;
  if (book.id === null || book.id === undefined) throw roleRequired('manage', 'rename it or change its currency');
  return book as Book;
}

/**
 * One statement: finds the book, and deletes it when it is empty — or, with `force`, together
 * with its transactions (the other sides of its transfers become ordinary entries). Only its
 * owner may (403 for other members, 404 for anyone else). The default book (where old clients'
 * transactions go) is never deleted.
 * A transaction inserted concurrently makes the foreign key refuse the delete (409, not data loss).
 */
export async function deleteBook(db: Db, user: Caller, id: string, force: boolean): Promise<void> {
  let rows: Array<{ role: Role; is_default: boolean; has_transactions: boolean; deleted: boolean }>;
  try {
    ({ rows } = await db.query(
      `WITH ${CALLER}, target AS (
         SELECT b.id, b.is_default, caller.role, EXISTS (SELECT 1 FROM transactions t WHERE t.book_id = b.id) AS has_transactions
         FROM books b JOIN caller ON true WHERE b.id = $1
       ), allowed AS (
         SELECT id FROM target WHERE ${roleIn('role', 'own')} AND NOT is_default AND ($3 OR NOT has_transactions)
       ), locked AS (
         -- The book's entries and the other sides of its transfers, locked before any is written,
         -- each pair expense side first: the order of every statement writing a pair (a
         -- concurrent PATCH of a transfer would otherwise deadlock with this one).
         -- (Read through the book's indexes by its id $1, once it is allowed.) The other side
         -- may be in a book of another account (shared books): found by the pair, not the account.
         -- Named by an id array (a value), not a semi-join: a row a concurrent statement changed
         -- is re-checked, once its lock is free, against the ids alone (a re-check through a
         -- join skipped it in CI's full run: the book's delete then met its foreign key).
         SELECT p.id, p.book_id FROM transactions p
         WHERE EXISTS (SELECT 1 FROM allowed) AND p.id = ANY (ARRAY(
           SELECT e.id FROM transactions e WHERE e.book_id = $1
           UNION ALL
           SELECT o.id FROM transactions e JOIN transactions o ON o.transfer_id = e.transfer_id
           WHERE e.book_id = $1 AND e.transfer_id IS NOT NULL))
         ORDER BY p.transfer_id, p.type, p.id FOR UPDATE
       ), gone_transactions AS (
         -- The book's activity goes with it: no deletion claims (entry_deletions) to record.
         -- The rows are named by id, as locked (ARRAY: a value, not a join): a row a concurrent
         -- statement changed before this one locked it is re-checked against the ids alone.
         DELETE FROM transactions t
         WHERE t.id = ANY (ARRAY(SELECT l.id FROM locked l WHERE l.book_id = $1 AND EXISTS (SELECT 1 FROM allowed)))
         RETURNING t.transfer_id
       ), unlinked AS (
         -- The other side of a transfer with this book stays, as an ordinary entry: the money did
         -- leave (or enter) that other book. Its history names the caller as who changed it.
         UPDATE transactions t SET transfer_id = NULL, updated_at = now(), updated_by = $2
         WHERE t.id = ANY (ARRAY(SELECT l.id FROM locked l WHERE l.book_id <> $1 AND EXISTS (SELECT 1 FROM allowed)))
           AND t.transfer_id = ANY (ARRAY(SELECT g.transfer_id FROM gone_transactions g WHERE g.transfer_id IS NOT NULL))
       ), gone AS (
         DELETE FROM books b USING allowed WHERE b.id = allowed.id RETURNING b.id
       )
       SELECT target.role, target.is_default, target.has_transactions, EXISTS (SELECT 1 FROM gone) AS deleted FROM target
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
  if (row.role !== 'owner') throw roleRequired('own', 'delete it');
  if (row.is_default) throw new Conflict('The default book cannot be deleted.');
  throw bookNotEmpty();
}

const bookNotEmpty = () =>
  new Conflict('This book still has transactions. Move or delete them first, or delete with ?force=true.');
