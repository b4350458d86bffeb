import type { Db } from '../db.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { roleRequired, type Role } from '../books/access.js';
import { bookColumns, type Book } from '../books/queries.js';

// Handing a book on: the owner makes an active member the owner and becomes an admin, in one
// UPDATE of both rows (book_members_one_owner is checked at commit, so the swap is legal). The
// book's account (books.user_id, where its entries live) does not move: no entry is rewritten.

/**
 * One statement. Both rows are locked first and the swap happens only if, as locked, the caller
 * is the active owner and the target an active member: a target leaving at the same moment
 * cannot leave the book with no owner. The default book is never handed on: clients that do not
 * send `book` write there.
 */
export async function transferOwnership(db: Db, user: Caller, bookId: string, targetId: number): Promise<Book> {
  const { rows } = await db.query<Partial<Book> & { caller_role: Role; target_active: boolean; swapped: boolean }>(
    `WITH locked AS (
       SELECT m.user_id, m.role FROM book_members m
       WHERE m.book_id = $1 AND m.user_id IN ($2, $4) AND m.status = 'active' AND $2 <> $4
         AND EXISTS (SELECT 1 FROM books b WHERE b.id = $1 AND NOT b.is_default)
         -- A deactivated account could never act as the owner: nobody could delete the book or hand it on.
         AND EXISTS (SELECT 1 FROM users u WHERE u.id = $4 AND u.is_active)
         AND EXISTS (SELECT 1 FROM book_members o WHERE o.book_id = $1 AND o.user_id = $2 AND o.role = 'owner')
       ORDER BY m.user_id FOR UPDATE
     ), swapped AS (
       UPDATE book_members m SET role = CASE WHEN m.user_id = $2 THEN 'admin' ELSE 'owner' END, updated_by = $2, updated_at = now()
       WHERE m.book_id = $1 AND m.user_id IN (SELECT l.user_id FROM locked l)
         AND (SELECT count(*) = 2 AND bool_or(l.user_id = $2 AND l.role = 'owner') FROM locked l)
       RETURNING m.user_id
     ), m AS (
       SELECT CASE WHEN EXISTS (SELECT 1 FROM swapped) THEN 'admin' ELSE c.role END AS role, c.role AS caller_role
       FROM book_members c WHERE c.book_id = $1 AND c.user_id = $2 AND c.status = 'active'
     )
     SELECT ${bookColumns('b')}, m.caller_role, EXISTS (SELECT 1 FROM swapped) AS swapped,
            EXISTS (SELECT 1 FROM book_members t JOIN users u ON u.id = t.user_id
                    WHERE t.book_id = $1 AND t.user_id = $4 AND t.status = 'active' AND u.is_active AND $2 <> $4) AS target_active
     FROM m JOIN books b ON b.id = $1
     WHERE ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt, targetId],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  const { caller_role: callerRole, target_active: targetActive, swapped, ...book } = row;
  if (swapped) return book as Book;
  if (callerRole !== 'owner') throw roleRequired('own', 'hand ownership on');
  if (book.is_default) throw new Conflict('The default book cannot be handed on: clients that do not name a book write to it.');
  if (!targetActive) {
    throw new ValidationError({ user_id: ['Not an active member of this book: ownership goes to a member who has accepted an invitation (and whose account is active).'] });
  }
  throw new Conflict('The book\'s membership changed meanwhile. Please try again.');
}
