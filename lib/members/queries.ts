import type { Db } from '../db.js';
import { Conflict, NotFound, RoleRequired, ValidationError } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { MAY, roleIn, roleRequired, userRef, type Right, type Role } from '../books/access.js';
import { isoTimestamp, selectList } from '../sql.js';
import { memberOutput, type InviteMemberInput, type Member, type MemberRole } from './schema.js';

// The members of a shared book: list, invite, change a role, remove (or leave). Each request is
// one statement that reads the caller's role in the book next to the active-user check and
// writes only if that role allows it; what it returns tells a non-member (404, as a missing
// book) from a member without the right (403). A departure is an UPDATE of the row (removed,
// left), never a DELETE: the activity trigger records it with `updated_by` as the actor.

/** The caller's active membership of book `$1` (user `$2`): one row with their role, or none. */
const CALLER = `caller AS (SELECT m.role FROM book_members m WHERE m.book_id = $1 AND m.user_id = $2 AND m.status = 'active')`;

/** A member as the API shows one, from book_members `m`. */
export const memberColumns = selectList(memberOutput, {
  user: (m) => userRef(`${m}.user_id`),
  role: (m) => `${m}.role`,
  status: (m) => `${m}.status`,
  invited_by: (m) => userRef(`${m}.invited_by`),
  created_at: (m) => isoTimestamp(`${m}.created_at`),
});

/** The owner first, then admins, operators, viewers; oldest first within a role. */
const ROLE_ORDER = `array_position(ARRAY['owner', 'admin', 'operator', 'viewer'], m.role), m.created_at, m.user_id`;

/** Active members and pending invitations (not those who left, declined or were removed): owners and admins. */
export async function listMembers(db: Db, user: Caller, bookId: string): Promise<Member[]> {
  const { rows } = await db.query<Member & { caller_role: Role }>(
    `WITH ${CALLER}
     SELECT caller.role AS caller_role, ${memberColumns('m')}
     FROM caller LEFT JOIN book_members m ON ${roleIn('caller.role', 'manage')} AND m.book_id = $1 AND m.status IN ('pending', 'active')
     WHERE ${activeUser('$2', '$3')}
     ORDER BY ${ROLE_ORDER}`,
    [bookId, user.id, user.issuedAt],
  );
  if (!rows[0]) throw new NotFound();
  if (rows[0].user === null) throw roleRequired('manage', 'see its members');
  return rows.map(({ caller_role: _role, ...member }) => member);
}

/**
 * Invites a user by username: a pending membership they accept or decline. Admins are invited by
 * the owner only; operators and viewers by an owner or admin. Someone who declined, was removed
 * or left may be invited again (their row goes back to pending).
 */
export async function inviteMember(db: Db, user: Caller, bookId: string, input: InviteMemberInput): Promise<Member> {
  const right = input.role === 'admin' ? 'own' : 'manage';
  const { rows } = await db.query<Partial<Member> & { caller_role: Role; found: boolean }>(
    `WITH ${CALLER},
     invitee AS (
       -- By the NFKC form, as registration and login compare (index users_username_nfkc_key).
       SELECT u.id FROM users u WHERE normalize(u.username, NFKC) = $4 AND u.is_active
     ), invited AS (
       INSERT INTO book_members AS m (book_id, user_id, role, status, invited_by, updated_by)
       SELECT $1, invitee.id, $5, 'pending', $2, $2 FROM invitee, caller WHERE ${roleIn('caller.role', right)}
       ON CONFLICT (book_id, user_id) DO UPDATE
         SET role = EXCLUDED.role, status = 'pending', invited_by = EXCLUDED.invited_by, updated_by = EXCLUDED.updated_by,
             created_at = now(), updated_at = now()
         WHERE m.status IN ('declined', 'removed', 'left')
       RETURNING m.*
     )
     SELECT caller.role AS caller_role, EXISTS (SELECT 1 FROM invitee) AS found, ${memberColumns('m')}
     FROM caller LEFT JOIN invited m ON true
     WHERE ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt, input.username, input.role],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  const { caller_role: callerRole, found, ...member } = row;
  if (member.user) return member as Member;
  if (!may(callerRole, right)) throw roleRequired(right, `invite ${A_ROLE[input.role]}`);
  if (!found) throw new ValidationError({ username: ['No active user with this username.'] });
  throw new Conflict('This user is already a member of this book, or already invited.');
}

const A_ROLE: Record<MemberRole, string> = { admin: 'an admin', operator: 'an operator', viewer: 'a viewer' };

/** Whether a role has a right: only to word the refusal of a statement that already refused. */
const may = (role: Role, right: Right) => (MAY[right] as readonly Role[]).includes(role);

/** Changes a member's (or an invitation's) role: the owner only; the owner's own role changes only by a transfer. */
export async function updateMember(db: Db, user: Caller, bookId: string, memberId: string, role: MemberRole): Promise<Member> {
  const { rows } = await db.query<Partial<Member> & { caller_role: Role; target_role: Role | null }>(
    `WITH ${CALLER},
     target AS (SELECT m.role FROM book_members m WHERE m.book_id = $1 AND m.user_id = $4 AND m.status IN ('pending', 'active')),
     changed AS (
       UPDATE book_members m SET role = $5, updated_by = $2, updated_at = now()
       FROM caller
       WHERE m.book_id = $1 AND m.user_id = $4 AND m.status IN ('pending', 'active') AND m.role <> 'owner' AND ${roleIn('caller.role', 'own')}
       RETURNING m.*
     )
     SELECT caller.role AS caller_role, (SELECT target.role FROM target) AS target_role, ${memberColumns('m')}
     FROM caller LEFT JOIN changed m ON true
     WHERE ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt, memberId, role],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  const { caller_role: callerRole, target_role: targetRole, ...member } = row;
  if (member.user) return member as Member;
  if (callerRole !== 'owner') throw roleRequired('own', 'change a member\'s role');
  if (targetRole === 'owner') throw new Conflict('The owner\'s role changes only by handing ownership on: POST /api/books/{id}/transfer/.');
  throw new NotFound();
}

/**
 * Removes a member or withdraws an invitation (status `removed`), or, for the caller themself,
 * leaves the book (status `left`). Anyone may leave but the owner, who hands ownership on first.
 * Removing an admin takes the owner; removing an operator, a viewer or any pending invitation,
 * an owner or admin. Nobody removes the owner.
 */
export async function removeMember(db: Db, user: Caller, bookId: string, memberId: string): Promise<void> {
  const { rows } = await db.query<{ caller_role: Role; target_role: Role | null; target_status: string | null; done: boolean }>(
    `WITH ${CALLER},
     target AS (SELECT m.role, m.status FROM book_members m WHERE m.book_id = $1 AND m.user_id = $4 AND m.status IN ('pending', 'active')),
     gone AS (
       UPDATE book_members m SET status = CASE WHEN m.user_id = $2 THEN 'left' ELSE 'removed' END, updated_by = $2, updated_at = now()
       FROM caller
       WHERE m.book_id = $1 AND m.user_id = $4 AND m.status IN ('pending', 'active') AND m.role <> 'owner'
         AND (m.user_id = $2
              OR (m.status = 'active' AND m.role = 'admin' AND ${roleIn('caller.role', 'own')})
              OR ((m.status = 'pending' OR m.role <> 'admin') AND ${roleIn('caller.role', 'manage')}))
       RETURNING m.user_id
     )
     SELECT caller.role AS caller_role, target.role AS target_role, target.status AS target_status, EXISTS (SELECT 1 FROM gone) AS done
     FROM caller LEFT JOIN target ON true
     WHERE ${activeUser('$2', '$3')}`,
    [bookId, user.id, user.issuedAt, memberId],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (row.done) return;
  const { caller_role: callerRole, target_role: targetRole, target_status: targetStatus } = row;
  if (memberId === String(user.id)) {
    if (targetRole === 'owner') throw new Conflict('The owner cannot leave the book: hand ownership on first (POST /api/books/{id}/transfer/).');
    throw new NotFound();
  }
  if (!may(callerRole, 'manage')) throw roleRequired('manage', 'remove its members');
  if (targetRole === null) throw new NotFound();
  if (targetRole === 'owner') throw new RoleRequired('The owner of a book cannot be removed; the owner may hand ownership on, then leave.');
  if (targetRole === 'admin' && targetStatus === 'active' && callerRole !== 'owner') throw roleRequired('own', 'remove an admin');
  throw new NotFound();
}
