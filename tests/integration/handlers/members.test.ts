import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as deleteBook } from '../../../functions/delete-book.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as listBooks } from '../../../functions/list-books.js';
import { handler as replaceBook } from '../../../functions/replace-book.js';
import { handler as updateBook } from '../../../functions/update-book.js';
import { handler as listMembers } from '../../../functions/list-book-members.js';
import { handler as inviteMember } from '../../../functions/invite-book-member.js';
import { handler as updateMember } from '../../../functions/update-book-member.js';
import { handler as removeMember } from '../../../functions/remove-book-member.js';
import { handler as listInvitations } from '../../../functions/list-invitations.js';
import { handler as acceptInvitation } from '../../../functions/accept-invitation.js';
import { handler as declineInvitation } from '../../../functions/decline-invitation.js';
import { handler as transferOwnership } from '../../../functions/transfer-book-ownership.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { defaultBookOf } from '../../support/sharing.js';

// Shared books (issue 18): members, invitations and ownership through the endpoints. A book the
// caller is not an active member of is a 404, as a missing one; a member without the right, 403.

type User = Awaited<ReturnType<typeof signUp>>;
let owner: User;
let admin: User;
let operator: User;
let viewer: User;
let outsider: User;

const at = (path: string, token: string, pathParameters: Record<string, string>, extra: { method?: string; body?: object; query?: Record<string, string> } = {}) => ({
  method: extra.method ?? 'GET',
  path,
  pathParameters,
  token,
  ...(extra.body ? { body: extra.body } : {}),
  ...(extra.query ? { query: extra.query } : {}),
});

const newBook = async (user: User, name = 'Shop') => {
  const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: user.access, body: { name } });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body.id as string;
};
const book = (id: string, user: User) => invoke(getBook, at(`/api/books/${id}/`, user.access, { id }));
const members = (id: string, user: User) => invoke(listMembers, at(`/api/books/${id}/members/`, user.access, { id }));
const invite = (id: string, by: User, username: string, role: string) =>
  invoke(inviteMember, at(`/api/books/${id}/members/`, by.access, { id }, { method: 'POST', body: { username, role } }));
const accept = (id: string, user: User) =>
  invoke(acceptInvitation, at(`/api/invitations/${id}/accept/`, user.access, { book_id: id }, { method: 'POST' }));
const decline = (id: string, user: User) =>
  invoke(declineInvitation, at(`/api/invitations/${id}/decline/`, user.access, { book_id: id }, { method: 'POST' }));
const remove = (id: string, by: User, userId: number) =>
  invoke(removeMember, at(`/api/books/${id}/members/${userId}/`, by.access, { id, user_id: String(userId) }, { method: 'DELETE' }));
const setRole = (id: string, by: User, userId: number, role: string) =>
  invoke(updateMember, at(`/api/books/${id}/members/${userId}/`, by.access, { id, user_id: String(userId) }, { method: 'PATCH', body: { role } }));
const transfer = (id: string, by: User, userId: unknown) =>
  invoke(transferOwnership, at(`/api/books/${id}/transfer/`, by.access, { id }, { method: 'POST', body: { user_id: userId } }));
const bookIds = async (user: User) => {
  const res = await invoke(listBooks, { path: '/api/books/', token: user.access });
  expect(res.status).toBe(200);
  return res.body.results.map((b: { id: string }) => b.id) as string[];
};

/** A book of `owner` with admin, operator and viewer as active members (through the endpoints). */
async function sharedBook(name = 'Shop'): Promise<string> {
  const id = await newBook(owner, name);
  for (const [user, role] of [[admin, 'admin'], [operator, 'operator'], [viewer, 'viewer']] as const) {
    expect((await invite(id, owner, user.username, role)).status).toBe(201);
    expect((await accept(id, user)).status).toBe(200);
  }
  return id;
}

const FORBIDDEN = { code: 'permission_denied', detail: expect.any(String) };

describe('shared books: members, invitations, ownership', () => {
  beforeAll(async () => {
    await resetData();
    owner = await signUp('owner');
    admin = await signUp('admin');
    operator = await signUp('operator');
    viewer = await signUp('viewer');
    outsider = await signUp('outsider');
  });
  afterAll(() => expectNoAppConnections());

  it('an invitee sees nothing of the book until they accept; then it is in their books with their role', async () => {
    const id = await newBook(owner);
    const invited = await invite(id, owner, viewer.username, 'viewer');
    expect(invited.status, JSON.stringify(invited.body)).toBe(201);
    expect(invited.body).toEqual({
      user: { id: viewer.id, username: viewer.username },
      role: 'viewer',
      status: 'pending',
      invited_by: { id: owner.id, username: owner.username },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });

    expect((await book(id, viewer)).status).toBe(404);
    expect(await bookIds(viewer)).not.toContain(id);
    const invitations = await invoke(listInvitations, { path: '/api/invitations/', token: viewer.access });
    expect(invitations.status).toBe(200);
    expect(invitations.body).toMatchObject({ count: 1, next: null, previous: null });
    expect(invitations.body.results).toEqual([
      { book: { id, name: 'Shop', currency: 'INR' }, role: 'viewer', invited_by: { id: owner.id, username: owner.username }, created_at: invited.body.created_at },
    ]);
    // The invitation is the invitee's: nobody else can accept it.
    expect((await accept(id, outsider)).status).toBe(404);

    const accepted = await accept(id, viewer);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ id, name: 'Shop', role: 'viewer', is_default: false, balance: '0.00' });
    expect((await book(id, viewer)).body).toEqual(accepted.body);
    expect(await bookIds(viewer)).toContain(id);
    expect((await invoke(listInvitations, { path: '/api/invitations/', token: viewer.access })).body.count).toBe(0);
    // Accepting twice: no pending invitation any more.
    expect((await accept(id, viewer)).status).toBe(404);

    const list = await members(id, owner);
    expect(list.status).toBe(200);
    expect(list.body.map((m: { user: { id: number }; role: string; status: string }) => [m.user.id, m.role, m.status])).toEqual([
      [owner.id, 'owner', 'active'],
      [viewer.id, 'viewer', 'active'],
    ]);
    expect(list.body[0].invited_by).toBeNull();
  });

  it('a declined invitation is gone, and the book stays invisible', async () => {
    const id = await newBook(owner);
    expect((await invite(id, owner, operator.username, 'operator')).status).toBe(201);
    const declined = await decline(id, operator);
    expect(declined.status).toBe(204);
    expect((await decline(id, operator)).status).toBe(404);
    expect((await accept(id, operator)).status).toBe(404);
    expect((await book(id, operator)).status).toBe(404);
    const rows = await adminQuery('SELECT status, updated_by::int AS updated_by FROM book_members WHERE book_id = $1 AND user_id = $2', [id, operator.id]);
    expect(rows).toEqual([{ status: 'declined', updated_by: operator.id }]);
    expect((await members(id, owner)).body).toHaveLength(1);
  });

  it('validates an invitation: role owner is a 400 pointing to /transfer/, an unknown username a 400 on username, a member or invitee a 409', async () => {
    const id = await sharedBook();
    const asOwner = await invite(id, owner, outsider.username, 'owner');
    expect(asOwner.status).toBe(400);
    expect(asOwner.body.role[0]).toContain('/transfer/');
    const unknown = await invite(id, owner, 'nobody_by_this_name', 'viewer');
    expect(unknown.status).toBe(400);
    expect(unknown.body).toEqual({ username: ['No active user with this username.'] });
    expect((await invite(id, owner, viewer.username, 'operator')).status).toBe(409);
    expect((await invite(id, owner, owner.username, 'admin')).status).toBe(409);
    expect((await invite(id, owner, outsider.username, 'viewer')).status).toBe(201);
    expect((await invite(id, admin, outsider.username, 'operator')).status).toBe(409);
  });

  it('an admin invites operators and viewers but not admins (403); operators and viewers invite nobody; a non-member gets 404', async () => {
    const id = await sharedBook();
    const refused = await invite(id, admin, outsider.username, 'admin');
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: 'You must be the owner of this book to invite an admin.', code: 'permission_denied' });
    expect((await invite(id, operator, outsider.username, 'viewer')).body).toEqual(FORBIDDEN);
    expect((await invite(id, viewer, outsider.username, 'viewer')).status).toBe(403);
    // A viewer cannot learn whether a username exists.
    expect((await invite(id, viewer, 'nobody_by_this_name', 'viewer')).status).toBe(403);
    expect((await invite(id, outsider, admin.username, 'viewer')).status).toBe(404);
    const byAdmin = await invite(id, admin, outsider.username, 'viewer');
    expect(byAdmin.status).toBe(201);
    expect(byAdmin.body.invited_by).toEqual({ id: admin.id, username: admin.username });
  });

  it('only owners and admins see the member list: an operator or viewer gets 403, a pending invitee or outsider 404', async () => {
    const id = await sharedBook();
    expect((await invite(id, owner, outsider.username, 'viewer')).status).toBe(201);
    const list = await members(id, admin);
    expect(list.status).toBe(200);
    expect(list.body.map((m: { role: string; status: string }) => `${m.role}:${m.status}`)).toEqual([
      'owner:active', 'admin:active', 'operator:active', 'viewer:active', 'viewer:pending',
    ]);
    const refused = await members(id, operator);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: 'You must be an owner or admin of this book to see its members.', code: 'permission_denied' });
    expect((await members(id, viewer)).status).toBe(403);
    expect((await members(id, outsider)).status).toBe(404);
    expect((await members('00000000-0000-4000-8000-000000000000', owner)).status).toBe(404);
  });

  it('removes a member: their very next request is a 404, and they leave the list; an admin removes operators but not admins', async () => {
    const id = await sharedBook();
    expect((await book(id, operator)).status).toBe(200);
    expect((await remove(id, admin, operator.id)).status).toBe(204);
    expect((await book(id, operator)).status).toBe(404);
    expect(await bookIds(operator)).not.toContain(id);
    expect((await members(id, owner)).body.map((m: { user: { id: number } }) => m.user.id)).not.toContain(operator.id);
    expect((await remove(id, admin, operator.id)).status).toBe(404);

    const refused = await remove(id, admin, owner.id);
    expect(refused.status).toBe(403);
    expect((await remove(id, viewer, admin.id)).status).toBe(403);
    const notAdmin = await setRole(id, owner, viewer.id, 'admin');
    expect(notAdmin.status).toBe(200);
    const adminRemovingAdmin = await remove(id, admin, viewer.id);
    expect(adminRemovingAdmin.status).toBe(403);
    expect(adminRemovingAdmin.body).toEqual({ detail: 'You must be the owner of this book to remove an admin.', code: 'permission_denied' });
    expect((await remove(id, owner, viewer.id)).status).toBe(204);
    expect((await book(id, viewer)).status).toBe(404);
    expect((await remove(id, outsider, admin.id)).status).toBe(404);

    const rows = await adminQuery('SELECT user_id::int AS user_id, status, updated_by::int AS updated_by FROM book_members WHERE book_id = $1 AND status = $2 ORDER BY user_id', [id, 'removed']);
    expect(rows).toEqual(
      [
        { user_id: operator.id, status: 'removed', updated_by: admin.id },
        { user_id: viewer.id, status: 'removed', updated_by: owner.id },
      ].sort((a, b) => a.user_id - b.user_id),
    );
    // The activity names who did it (written by the database from updated_by).
    const activity = await adminQuery('SELECT action, actor_id::int AS actor, subject_id::int AS subject FROM book_activity WHERE book_id = $1 AND action = $2 ORDER BY id', [id, 'removed']);
    expect(activity).toEqual([{ action: 'removed', actor: admin.id, subject: operator.id }, { action: 'removed', actor: owner.id, subject: viewer.id }]);
  });

  it('withdraws a pending invitation (an admin may, whatever its role)', async () => {
    const id = await sharedBook();
    expect((await invite(id, owner, outsider.username, 'admin')).status).toBe(201);
    expect((await remove(id, admin, outsider.id)).status).toBe(204);
    expect((await accept(id, outsider)).status).toBe(404);
  });

  it('any member may leave; the owner may not (409) until ownership is handed on', async () => {
    const id = await sharedBook();
    expect((await remove(id, viewer, viewer.id)).status).toBe(204);
    expect((await book(id, viewer)).status).toBe(404);
    expect((await remove(id, operator, operator.id)).status).toBe(204);
    expect((await remove(id, admin, admin.id)).status).toBe(204);
    const rows = await adminQuery('SELECT status FROM book_members WHERE book_id = $1 AND user_id = $2', [id, admin.id]);
    expect(rows).toEqual([{ status: 'left' }]);

    const stays = await remove(id, owner, owner.id);
    expect(stays.status).toBe(409);
    expect(stays.body.detail).toMatch(/hand ownership on first/);
    expect((await book(id, owner)).status).toBe(200);
    // Leaving twice, or a book one never belonged to: 404.
    expect((await remove(id, viewer, viewer.id)).status).toBe(404);
    expect((await remove(id, outsider, outsider.id)).status).toBe(404);
  });

  it('a removed (or departed) member can be invited again: the invitation is pending anew', async () => {
    const id = await sharedBook();
    expect((await remove(id, owner, operator.id)).status).toBe(204);
    const again = await invite(id, admin, operator.username, 'viewer');
    expect(again.status).toBe(201);
    expect(again.body).toMatchObject({ role: 'viewer', status: 'pending', invited_by: { id: admin.id } });
    expect((await book(id, operator)).status).toBe(404);
    expect((await accept(id, operator)).body.role).toBe('viewer');
    expect((await book(id, operator)).status).toBe(200);
  });

  it('the owner changes roles (200); an admin cannot (403); the owner\'s own role is a 409; "owner" is a 400', async () => {
    const id = await sharedBook();
    const changed = await setRole(id, owner, operator.id, 'viewer');
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ user: { id: operator.id }, role: 'viewer', status: 'active' });
    expect((await book(id, operator)).body.role).toBe('viewer');
    expect((await setRole(id, admin, operator.id, 'operator')).status).toBe(403);
    expect((await setRole(id, owner, owner.id, 'admin')).status).toBe(409);
    expect((await setRole(id, owner, operator.id, 'owner')).status).toBe(400);
    expect((await setRole(id, owner, outsider.id, 'viewer')).status).toBe(404);
    expect((await setRole(id, outsider, operator.id, 'viewer')).status).toBe(404);
    const malformed = await invoke(updateMember, at(`/api/books/${id}/members/x/`, owner.access, { id, user_id: 'x' }, { method: 'PATCH', body: { role: 'viewer' } }));
    expect(malformed.status).toBe(404);
  });

  it('hands ownership on to an active member: one owner after, the old owner an admin; only the owner may', async () => {
    const id = await sharedBook();
    expect((await invite(id, owner, outsider.username, 'viewer')).status).toBe(201);
    const toPending = await transfer(id, owner, outsider.id);
    expect(toPending.status).toBe(400);
    expect(toPending.body).toHaveProperty('user_id');
    expect((await transfer(id, owner, owner.id)).status).toBe(400);
    expect((await transfer(id, owner, 'seven')).status).toBe(400);
    const refused = await transfer(id, admin, operator.id);
    expect(refused.status).toBe(403);
    expect(refused.body).toEqual({ detail: 'You must be the owner of this book to hand ownership on.', code: 'permission_denied' });
    expect((await transfer(id, outsider, operator.id)).status).toBe(404);

    const handed = await transfer(id, owner, operator.id);
    expect(handed.status, JSON.stringify(handed.body)).toBe(200);
    expect(handed.body).toMatchObject({ id, role: 'admin' });
    const owners = await adminQuery<{ user_id: number }>("SELECT user_id::int AS user_id FROM book_members WHERE book_id = $1 AND role = 'owner'", [id]);
    expect(owners).toEqual([{ user_id: operator.id }]);
    expect((await book(id, operator)).body.role).toBe('owner');
    expect((await book(id, owner)).body.role).toBe('admin');
    // The new owner has the owner's rights; the old one only an admin's.
    expect((await remove(id, owner, owner.id)).status).toBe(204);
    expect((await remove(id, operator, operator.id)).status).toBe(409);
    expect((await invoke(deleteBook, at(`/api/books/${id}/`, admin.access, { id }, { method: 'DELETE' }))).status).toBe(403);
    expect((await invoke(deleteBook, at(`/api/books/${id}/`, operator.access, { id }, { method: 'DELETE' }))).status).toBe(204);
    const activity = await adminQuery("SELECT action FROM book_activity WHERE book_id = $1", [id]);
    expect(activity).toEqual([]);
  });

  it('never hands on the default book (409: old clients write there)', async () => {
    const id = await defaultBookOf(owner.id);
    expect((await invite(id, owner, admin.username, 'admin')).status).toBe(201);
    expect((await accept(id, admin)).status).toBe(200);
    const refused = await transfer(id, owner, admin.id);
    expect(refused.status).toBe(409);
    expect((await book(id, owner)).body.role).toBe('owner');
    expect((await remove(id, admin, admin.id)).status).toBe(204);
  });

  it('shows a default book shared with a member as not their default; their own default book comes first in their list', async () => {
    const ownersDefault = await defaultBookOf(owner.id);
    expect((await invite(ownersDefault, owner, viewer.username, 'viewer')).status).toBe(201);
    expect((await accept(ownersDefault, viewer)).status).toBe(200);
    const seen = await invoke(listBooks, { path: '/api/books/', token: viewer.access });
    const listed = seen.body.results as Array<{ id: string; is_default: boolean; role: string }>;
    expect(listed[0]).toMatchObject({ id: await defaultBookOf(viewer.id), is_default: true, role: 'owner' });
    expect(listed.find((b) => b.id === ownersDefault)).toMatchObject({ is_default: false, role: 'viewer' });
    expect((await book(ownersDefault, owner)).body.is_default).toBe(true);
    expect((await remove(ownersDefault, viewer, viewer.id)).status).toBe(204);
  });

  it('hands ownership only to a member whose account is active (400 on user_id otherwise)', async () => {
    const id = await sharedBook('Deactivated heir');
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [admin.id]);
    try {
      const refused = await transfer(id, owner, admin.id);
      expect(refused.status).toBe(400);
      expect(refused.body).toHaveProperty('user_id');
      expect((await book(id, owner)).body.role).toBe('owner');
    } finally {
      await adminQuery('UPDATE users SET is_active = true WHERE id = $1', [admin.id]);
    }
  });

  it('book endpoints follow the roles: owners and admins rename (others 403), only the owner deletes, the list shows each role', async () => {
    const id = await sharedBook('Family');
    const renamed = await invoke(updateBook, at(`/api/books/${id}/`, admin.access, { id }, { method: 'PATCH', body: { name: 'Household' } }));
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Household', role: 'admin' });
    for (const user of [operator, viewer]) {
      const refused = await invoke(updateBook, at(`/api/books/${id}/`, user.access, { id }, { method: 'PATCH', body: { name: 'Mine' } }));
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ detail: 'You must be an owner or admin of this book to rename it or change its currency.', code: 'permission_denied' });
      expect((await invoke(updateBook, at(`/api/books/${id}/`, user.access, { id }, { method: 'PATCH', body: {} }))).status).toBe(403);
      expect((await invoke(replaceBook, at(`/api/books/${id}/`, user.access, { id }, { method: 'PUT', body: { name: 'Mine', currency: 'USD' } }))).status).toBe(403);
    }
    expect((await invoke(updateBook, at(`/api/books/${id}/`, outsider.access, { id }, { method: 'PATCH', body: { name: 'Mine' } }))).status).toBe(404);
    expect((await book(id, owner)).body.name).toBe('Household');

    const list = await invoke(listBooks, { path: '/api/books/', token: viewer.access });
    expect(list.body.results.find((b: { id: string }) => b.id === id)).toMatchObject({ name: 'Household', role: 'viewer' });
    expect(list.body.results[0]).toMatchObject({ is_default: true, role: 'owner' });

    for (const user of [admin, operator, viewer]) {
      const refused = await invoke(deleteBook, at(`/api/books/${id}/`, user.access, { id }, { method: 'DELETE' }));
      expect(refused.status).toBe(403);
    }
    expect((await invoke(deleteBook, at(`/api/books/${id}/`, outsider.access, { id }, { method: 'DELETE' }))).status).toBe(404);
    expect((await invoke(deleteBook, at(`/api/books/${id}/`, owner.access, { id }, { method: 'DELETE' }))).status).toBe(204);
    expect((await book(id, admin)).status).toBe(404);
  });

  it('deleting a book unlinks the other side of a transfer with a book of another account, which stays as an ordinary entry', async () => {
    const id = await sharedBook('Till');
    const theirs = await defaultBookOf(admin.id);
    const [pair] = await adminQuery<{ id: string }>('SELECT gen_random_uuid() AS id');
    await adminQuery(
      `INSERT INTO transactions (user_id, book_id, type, amount, transfer_id, created_by, updated_by)
       VALUES ($1, $2, 'expense', 10, $5, $1, $1), ($3, $4, 'income', 10, $5, $1, $1)`,
      [owner.id, id, admin.id, theirs, pair!.id],
    );
    const res = await invoke(deleteBook, at(`/api/books/${id}/`, owner.access, { id }, { method: 'DELETE', query: { force: 'true' } }));
    expect(res.status, JSON.stringify(res.body)).toBe(204);
    const left = await adminQuery('SELECT book_id, transfer_id, updated_by::int AS updated_by FROM transactions WHERE book_id = ANY($1::uuid[])', [[id, theirs]]);
    expect(left).toEqual([{ book_id: theirs, transfer_id: null, updated_by: owner.id }]);
  });

  it('the invitations list pages like the other lists', async () => {
    const fresh = await signUp('invitee');
    const ids = [await newBook(owner, 'I1'), await newBook(owner, 'I2'), await newBook(owner, 'I3')];
    for (const id of ids) expect((await invite(id, owner, fresh.username, 'viewer')).status).toBe(201);
    const page = await invoke(listInvitations, { path: '/api/invitations/', token: fresh.access, query: { page: '2', page_size: '2' } });
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ count: 3, next: null });
    expect(page.body.results.map((i: { book: { name: string } }) => i.book.name)).toEqual(['I3']);
    expect((await invoke(listInvitations, { path: '/api/invitations/', token: fresh.access, query: { page: '3', page_size: '2' } })).status).toBe(404);
  });
});
