import type { Db } from '../db.js';
import { NotFound } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { userRef } from '../books/access.js';
import { bookColumns, type Book } from '../books/queries.js';
import { isoTimestamp, selectList } from '../sql.js';
import { invitationOutput, type Invitation } from './schema.js';

// The caller's invitations to others' books. A pending invitation grants nothing: the book is in
// none of the invitee's lists and totals until they accept. Each is one statement on the
// caller's own membership row; anything but a pending invitation is a 404.

/** An invitation as the API shows one, from book_members `m` and books `b`. */
const invitationColumns = selectList(invitationOutput, {
  book: () => `jsonb_build_object('id', b.id, 'name', b.name, 'currency', b.currency)`,
  role: (m) => `${m}.role`,
  invited_by: (m) => userRef(`${m}.invited_by`),
  created_at: (m) => isoTimestamp(`${m}.created_at`),
});

/** The caller's pending invitations, oldest first. */
export async function listInvitations(
  db: Db,
  user: Caller,
  { page, page_size }: { page: number; page_size: number },
): Promise<{ count: number; rows: Invitation[] }> {
  const { rows } = await db.query<Invitation & { total: string }>(
    `SELECT ${invitationColumns('m')}, count(*) OVER () AS total
     FROM book_members m JOIN books b ON b.id = m.book_id
     WHERE m.user_id = $1 AND m.status = 'pending' AND ${activeUser('$1', '$4')}
     ORDER BY m.created_at, m.book_id LIMIT $2 OFFSET $3`,
    [user.id, page_size, (page - 1) * page_size, user.issuedAt],
  );
  const count = rows[0] ? Number(rows[0].total) : 0;
  return { count, rows: rows.map(({ total: _total, ...row }) => row) };
}

/** Accepts a pending invitation: the caller becomes an active member with the role offered. */
export async function acceptInvitation(db: Db, user: Caller, bookId: string): Promise<Book> {
  const { rows } = await db.query<Book>(
    `WITH joined AS (
       UPDATE book_members m SET status = 'active', updated_by = $2, updated_at = now()
       WHERE m.book_id = $1 AND m.user_id = $2 AND m.status = 'pending'
       RETURNING m.book_id, m.role
     )
     SELECT ${bookColumns('b')} FROM joined m JOIN books b ON b.id = m.book_id
     WHERE ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt],
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/** Declines a pending invitation (kept as `declined`: the book's activity shows it). */
export async function declineInvitation(db: Db, user: Caller, bookId: string): Promise<void> {
  const { rowCount } = await db.query(
    `UPDATE book_members m SET status = 'declined', updated_by = $2, updated_at = now()
     WHERE m.book_id = $1 AND m.user_id = $2 AND m.status = 'pending' AND ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt],
  );
  if (!rowCount) throw new NotFound();
}
