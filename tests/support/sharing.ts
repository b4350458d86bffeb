import { adminQuery } from './db.js';

// Shared books in tests without going through the member endpoints: a membership row written
// as the API would leave it (migration 1764000080000). The endpoints have tests of their own.

export type MemberRole = 'admin' | 'operator' | 'viewer';
export type MemberStatus = 'pending' | 'active' | 'declined' | 'removed' | 'left';

/** Makes `userId` a member of `bookId` with `role` (active unless `status` says otherwise). */
export async function addMember(bookId: string, userId: number, role: MemberRole, status: MemberStatus = 'active', invitedBy?: number): Promise<void> {
  await adminQuery(
    `INSERT INTO book_members (book_id, user_id, role, status, invited_by, updated_by) VALUES ($1, $2, $3, $4, $5, $5)
     ON CONFLICT (book_id, user_id) DO UPDATE SET role = EXCLUDED.role, status = EXCLUDED.status, updated_at = now()`,
    [bookId, userId, role, status, invitedBy ?? null],
  );
}

/** The id of a user's default book (where entries without `book` go). */
export async function defaultBookOf(userId: number): Promise<string> {
  const rows = await adminQuery<{ id: string }>('SELECT id FROM books WHERE user_id = $1 AND is_default', [userId]);
  return rows[0]!.id;
}
