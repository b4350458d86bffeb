import { RoleRequired } from '../errors.js';

// Who may do what in a shared book (issue 18, migration 1764000080000). Membership and role are
// read INSIDE the one statement each endpoint runs, like the active-user check: no extra round
// trip and no cache, so a removed member's very next request is refused. A book the caller is
// not an active member of (never invited, pending, declined, removed, left) is a 404, exactly as
// for a missing one; an active member whose role lacks the right gets RoleRequired (403).
//
// books.user_id (= transactions.user_id) is the book's ACCOUNT, the user who created it; it is
// not who may see it. Which user owns the book now is book_members.role = 'owner'.

export type Role = 'owner' | 'admin' | 'operator' | 'viewer';

/** The roles allowed each action (the table in ../shared/API.md, "Shared books"). */
export const MAY = {
  /** See the book, its entries, balances, summary, export, statements, history, activity. */
  read: ['owner', 'admin', 'operator', 'viewer'],
  /** Add entries (and transfers, receipts); edit or delete the entries they recorded. */
  record: ['owner', 'admin', 'operator'],
  /** Edit or delete any entry; rename the book, change its currency; see the members; invite or remove operators and viewers. */
  manage: ['owner', 'admin'],
  /** Delete the book, hand ownership on, invite or remove admins, change anyone's role. */
  own: ['owner'],
} as const satisfies Record<string, readonly Role[]>;

export type Right = keyof typeof MAY;

/** SQL: `role IN ('owner', 'admin')` for a right. The roles are constants, never user input. */
export const roleIn = (role: string, right: Right) => `${role} IN (${MAY[right].map((r) => `'${r}'`).join(', ')})`;

/** SQL: the role of user `user` in book `book` as an active member, or NULL. */
export const memberRole = (book: string, user: string) =>
  `(SELECT m.role FROM book_members m WHERE m.book_id = ${book} AND m.user_id = ${user} AND m.status = 'active')`;

/** SQL: the ids of the books user `user` is an active member of. */
export const memberBooks = (user: string) =>
  `(SELECT m.book_id FROM book_members m WHERE m.user_id = ${user} AND m.status = 'active')`;

/** SQL: who recorded entry `t` (an entry from before shared books: the book's account). */
export const recorder = (t: string) => `CASE WHEN ${t}.legacy THEN ${t}.user_id ELSE ${t}.created_by END`;

/** SQL: whether a member with role `role` (an expression) may edit or delete entry `t`. */
export const mayEditEntry = (role: string, t: string, user: string) =>
  `(${roleIn(role, 'manage')} OR (${role} = 'operator' AND ${recorder(t)} = ${user}))`;

/** SQL: a user as the API shows one, `{id, username}`, or null for a deleted account. */
export const userRef = (id: string) =>
  `(SELECT jsonb_build_object('id', ref.id, 'username', ref.username) FROM users ref WHERE ref.id = ${id})`;

const NEEDED: Record<Right, string> = {
  read: 'a member',
  record: 'an owner, admin or operator',
  manage: 'an owner or admin',
  own: 'the owner',
};

/** 403 naming the role needed: "You must be an owner or admin of this book to rename it." */
export const roleRequired = (right: Right, action: string) =>
  new RoleRequired(`You must be ${NEEDED[right]} of this book to ${action}.`);

/** 403 for an operator changing an entry someone else recorded. */
export const notYourEntry = (action: string) =>
  new RoleRequired(`Operators may ${action} only the entries they recorded; an owner or admin of this book may ${action} any entry.`);
