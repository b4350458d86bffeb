import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as completeAttachment } from '../../../functions/complete-attachment.js';
import { handler as createAttachment } from '../../../functions/create-attachment.js';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
import { handler as createTransfer } from '../../../functions/create-transfer.js';
import { handler as removeAttachment } from '../../../functions/delete-attachment.js';
import { handler as removeTransaction } from '../../../functions/delete-transaction.js';
import { handler as removeTransfer } from '../../../functions/delete-transfer.js';
import { handler as statementXlsx } from '../../../functions/get-book-statement-xlsx.js';
import { handler as getTransaction } from '../../../functions/get-transaction.js';
import { handler as getTransfer } from '../../../functions/get-transfer.js';
import { handler as listAttachments } from '../../../functions/list-attachments.js';
import { handler as listTransfers } from '../../../functions/list-transfers.js';
import { handler as replaceTransaction } from '../../../functions/replace-transaction.js';
import { handler as updateTransaction } from '../../../functions/update-transaction.js';
import { handler as updateTransfer } from '../../../functions/update-transfer.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { addMember, defaultBookOf } from '../../support/sharing.js';

// Entries, transfers, receipts and statements of a shared book (issue 18): every path checks the
// caller's membership and role inside its one statement. A book the caller is not an active
// member of (never invited, pending, removed) is a 404 (or, named in a body, the 400 of a book
// that does not exist), exactly as for a missing one; a member whose role lacks the right gets
// 403 permission_denied naming the role needed.

type Account = Awaited<ReturnType<typeof signUp>>;
let owner: Account;
let admin: Account;
let operator: Account;
let otherOperator: Account;
let viewer: Account;
let pending: Account;
let removed: Account;
let stranger: Account;
/** The owner's default book, shared with everyone above but the stranger. */
let book: string;

const ref = (a: Account) => ({ id: a.id, username: a.username });

async function record(a: Account, body: object = {}) {
  return invoke(createTransaction, { method: 'POST', path: '/api/transactions/', token: a.access, body: { book, type: 'expense', amount: '10.00', ...body } });
}
async function recorded(a: Account, body: object = {}): Promise<{ id: string; [k: string]: any }> {
  const res = await record(a, body);
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}
const onEntry = (id: string, a: Account, extra: object = {}) => ({ path: `/api/transactions/${id}/`, pathParameters: { id }, token: a.access, ...extra });
const read = (id: string, a: Account) => invoke(getTransaction, onEntry(id, a));
const patch = (id: string, a: Account, body: object) => invoke(updateTransaction, onEntry(id, a, { method: 'PATCH', body }));
const remove = (id: string, a: Account) => invoke(removeTransaction, onEntry(id, a, { method: 'DELETE' }));

async function newBook(a: Account, name: string): Promise<string> {
  const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: a.access, body: { name, currency: 'INR' } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const deletedBy = async (id: string) =>
  (await adminQuery<{ actor_id: string | null }>(`SELECT actor_id FROM book_activity WHERE transaction_id = $1 AND action = 'deleted'`, [id])).map((r) =>
    r.actor_id === null ? null : Number(r.actor_id),
  );

const denied = (role: 'record', res: { status: number; body: any }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body.code).toBe('permission_denied');
  if (role === 'record') expect(res.body.detail).toMatch(/owner, admin or operator/);
};
const notTheirs = (res: { status: number; body: any }) => {
  expect(res.status, JSON.stringify(res.body)).toBe(403);
  expect(res.body).toEqual({ detail: expect.stringMatching(/^Operators may .* only the entries they recorded/), code: 'permission_denied' });
};

describe('entries of a shared book', () => {
  beforeAll(async () => {
    await resetData();
    owner = await signUp('owner');
    admin = await signUp('admin');
    operator = await signUp('operator');
    otherOperator = await signUp('operator');
    viewer = await signUp('viewer');
    pending = await signUp('pending');
    removed = await signUp('removed');
    stranger = await signUp('stranger');
    book = await defaultBookOf(owner.id);
    await addMember(book, admin.id, 'admin', 'active', owner.id);
    await addMember(book, operator.id, 'operator', 'active', owner.id);
    await addMember(book, otherOperator.id, 'operator', 'active', owner.id);
    await addMember(book, viewer.id, 'viewer', 'active', owner.id);
    await addMember(book, pending.id, 'operator', 'pending', owner.id);
    await addMember(book, removed.id, 'admin', 'removed', owner.id);
  });
  afterAll(() => expectNoAppConnections());

  it('every active member reads an entry, with who recorded it; pending, removed and non-members get 404', async () => {
    const entry = await recorded(owner, { description: 'seen by all' });
    expect(entry.created_by).toEqual(ref(owner));
    expect(entry.updated_by).toEqual(ref(owner));
    for (const member of [owner, admin, operator, viewer]) {
      const res = await read(entry.id, member);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(entry);
    }
    for (const outsider of [pending, removed, stranger]) {
      expect(await read(entry.id, outsider)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    }
  });

  it("owner, admin and operator add entries to the book's account; a viewer gets 403; pending, removed and non-members the 400 of an unknown book", async () => {
    for (const member of [owner, admin, operator]) {
      const entry = await recorded(member, { description: `by ${member.username}` });
      expect(entry).toMatchObject({ book, created_by: ref(member), updated_by: ref(member) });
      const [row] = await adminQuery<{ user_id: string; created_by: string; updated_by: string; legacy: boolean }>(
        'SELECT user_id, created_by, updated_by, legacy FROM transactions WHERE id = $1',
        [entry.id],
      );
      expect(row).toEqual({ user_id: String(owner.id), created_by: String(member.id), updated_by: String(member.id), legacy: false });
    }
    const before = await adminQuery('SELECT id FROM transactions');
    denied('record', await record(viewer));
    for (const outsider of [pending, removed, stranger]) {
      const res = await record(outsider);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ book: [`Invalid pk "${book}" - object does not exist.`] });
    }
    expect(await adminQuery('SELECT id FROM transactions')).toHaveLength(before.length);
  });

  it('replays an operator\'s create in the shared book byte for byte, without a second row', async () => {
    const send = () =>
      invoke(createTransaction, {
        method: 'POST', path: '/api/transactions/', token: operator.access, headers: { 'Idempotency-Key': 'shared-1' },
        body: { book, type: 'expense', amount: '4.00', description: 'once' },
      });
    const first = await send();
    expect(first.status).toBe(201);
    expect(first.body.created_by).toEqual(ref(operator));
    const again = await send();
    expect(again.status).toBe(201);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(again.raw).toBe(first.raw);
    expect(await adminQuery(`SELECT 1 FROM transactions WHERE description = 'once'`)).toHaveLength(1);
    // A viewer's key is refused with 403 and released: nothing saved under it.
    const viewers = await invoke(createTransaction, {
      method: 'POST', path: '/api/transactions/', token: viewer.access, headers: { 'Idempotency-Key': 'shared-2' }, body: { book, type: 'expense', amount: '4.00' },
    });
    denied('record', viewers);
    expect(await adminQuery(`SELECT 1 FROM idempotency_keys WHERE key = 'shared-2'`)).toEqual([]);
  });

  it("a viewer's entries without `book` still go to their own default book", async () => {
    const res = await invoke(createTransaction, { method: 'POST', path: '/api/transactions/', token: viewer.access, body: { type: 'income', amount: '1.00' } });
    expect(res.status).toBe(201);
    expect(res.body.book).toBe(await defaultBookOf(viewer.id));
  });

  it('an operator edits and deletes only the entries they recorded; owner and admin any entry; a viewer none', async () => {
    const mine = await recorded(operator, { description: 'operator' });
    const owners = await recorded(owner, { description: 'owner' });

    const edited = await patch(mine.id, operator, { description: 'operator, edited' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ description: 'operator, edited', created_by: ref(operator), updated_by: ref(operator) });

    notTheirs(await patch(owners.id, operator, { description: 'taken over' }));
    notTheirs(await patch(mine.id, otherOperator, { description: 'taken over' }));
    notTheirs(await invoke(replaceTransaction, onEntry(owners.id, operator, { method: 'PUT', body: { type: 'income', amount: '1.00', category: '', description: '', date: '2026-01-01', payment_mode: 'cash' } })));
    denied('record', await patch(mine.id, viewer, { description: 'viewer' }));
    for (const outsider of [pending, removed, stranger]) expect((await patch(mine.id, outsider, { description: 'x' })).status).toBe(404);

    const byAdmin = await patch(mine.id, admin, { amount: '11.00' });
    expect(byAdmin.status).toBe(200);
    expect(byAdmin.body).toMatchObject({ amount: '11.00', description: 'operator, edited', created_by: ref(operator), updated_by: ref(admin) });
    expect((await patch(owners.id, admin, { amount: '12.00' })).body.updated_by).toEqual(ref(admin));

    denied('record', await remove(mine.id, viewer));
    notTheirs(await remove(owners.id, operator));
    notTheirs(await remove(mine.id, otherOperator));
    for (const outsider of [pending, removed, stranger]) expect((await remove(mine.id, outsider)).status).toBe(404);
    expect((await read(mine.id, owner)).body.amount).toBe('11.00');
    expect(await deletedBy(mine.id)).toEqual([]);

    expect((await remove(mine.id, operator)).status).toBe(204);
    expect(await deletedBy(mine.id)).toEqual([operator.id]);
    expect((await remove(owners.id, admin)).status).toBe(204);
    expect(await deletedBy(owners.id)).toEqual([admin.id]);
    expect(await adminQuery('SELECT 1 FROM entry_deletions')).toEqual([]);
  });

  it('names the book\'s account as who recorded an entry from before shared books, until it is changed', async () => {
    const [legacy] = await adminQuery<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, legacy) VALUES ($1, $2, 'income', 3, true) RETURNING id`,
      [owner.id, book],
    );
    const id = legacy!.id;
    expect((await read(id, viewer)).body).toMatchObject({ created_by: ref(owner), updated_by: ref(owner) });
    notTheirs(await patch(id, operator, { description: 'not theirs' }));
    const edited = await patch(id, admin, { description: 'changed' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ created_by: ref(owner), updated_by: ref(admin) });
    // Moved into another account, it is still the owner's: who recorded it is written down.
    const adminsOwn = await defaultBookOf(admin.id);
    const moved = await patch(id, admin, { book: adminsOwn });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ created_by: ref(owner), updated_by: ref(admin) });
    expect(await adminQuery('SELECT created_by::int AS created_by, legacy FROM transactions WHERE id = $1', [id])).toEqual([
      { created_by: owner.id, legacy: false },
    ]);
  });

  it('moves an entry to another book only where the caller may record, and into that book\'s account', async () => {
    const entry = await recorded(operator, { description: 'moving' });
    const ownersOther = await newBook(owner, 'Viewed by the operator');
    await addMember(ownersOther, operator.id, 'viewer', 'active', owner.id);
    // A viewer of the book it would move to: 403, as for creating an entry there.
    const refused = await patch(entry.id, operator, { book: ownersOther });
    expect(refused.status).toBe(403);
    expect(refused.body.code).toBe('permission_denied');
    const strangers = await defaultBookOf(stranger.id);
    expect((await patch(entry.id, operator, { book: strangers })).status).toBe(400);

    const receipt = await invoke(createAttachment, {
      method: 'POST', path: `/api/transactions/${entry.id}/attachments/`, pathParameters: { id: entry.id }, token: operator.access,
      body: { filename: 'r.pdf', content_type: 'application/pdf', size: 10 },
    });
    expect(receipt.status).toBe(201);
    const operatorsOwn = await defaultBookOf(operator.id);
    const moved = await patch(entry.id, operator, { book: operatorsOwn });
    expect(moved.status, JSON.stringify(moved.body)).toBe(200);
    expect(moved.body).toMatchObject({ book: operatorsOwn, created_by: ref(operator), updated_by: ref(operator) });
    const [row] = await adminQuery<{ user_id: string }>('SELECT user_id FROM transactions WHERE id = $1', [entry.id]);
    expect(row!.user_id).toBe(String(operator.id));
    // Its receipts moved with it into the operator's account.
    expect(await adminQuery('SELECT user_id FROM attachments WHERE transaction_id = $1', [entry.id])).toEqual([{ user_id: String(operator.id) }]);
    expect((await read(entry.id, owner)).status).toBe(404);
  });

  it('a removed member\'s very next request is a 404', async () => {
    const late = await signUp('late');
    await addMember(book, late.id, 'admin', 'active', owner.id);
    const entry = await recorded(late);
    expect((await read(entry.id, late)).status).toBe(200);
    await addMember(book, late.id, 'admin', 'removed', owner.id);
    expect((await read(entry.id, late)).status).toBe(404);
    expect((await patch(entry.id, late, { description: 'x' })).status).toBe(404);
    expect((await remove(entry.id, late)).status).toBe(404);
    expect((await read(entry.id, owner)).body.created_by).toEqual(ref(late));
  });
});

describe('a deactivated member of a shared book', () => {
  it('gets 401 user_inactive on every entry path, and nothing is written', async () => {
    const gone = await signUp('deactivated');
    await addMember(book, gone.id, 'admin', 'active', owner.id);
    const entry = await recorded(gone, { description: 'before deactivation' });
    const receipt = await invoke(createAttachment, {
      method: 'POST', path: `/api/transactions/${entry.id}/attachments/`, pathParameters: { id: entry.id }, token: gone.access,
      body: { filename: 'r.pdf', content_type: 'application/pdf', size: 10 },
    });
    expect(receipt.status).toBe(201);
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [gone.id]);
    const inactive = { detail: 'User is inactive', code: 'user_inactive' };
    const attachmentPath = { path: `/api/attachments/${receipt.body.id}/`, pathParameters: { id: receipt.body.id }, token: gone.access };
    for (const res of [
      await record(gone),
      await read(entry.id, gone),
      await patch(entry.id, gone, { description: 'after' }),
      await remove(entry.id, gone),
      await invoke(listAttachments, { path: `/api/transactions/${entry.id}/attachments/`, pathParameters: { id: entry.id }, token: gone.access }),
      await invoke(removeAttachment, { ...attachmentPath, method: 'DELETE' }),
      await invoke(completeAttachment, { ...attachmentPath, path: `${attachmentPath.path}complete/`, method: 'POST' }),
      await invoke(createTransfer, { method: 'POST', path: '/api/transfers/', token: gone.access, body: { from_book: await defaultBookOf(gone.id), to_book: book, amount: '1.00' } }),
      await invoke(listTransfers, { path: '/api/transfers/', token: gone.access }),
    ]) {
      expect(res.status, JSON.stringify(res.body)).toBe(401);
      expect(res.body).toEqual(inactive);
    }
    expect((await read(entry.id, owner)).body.description).toBe('before deactivation');
    expect(await adminQuery('SELECT 1 FROM attachments WHERE id = $1', [receipt.body.id])).toHaveLength(1);
    expect(await adminQuery('SELECT 1 FROM entry_deletions')).toEqual([]);
  });
});

describe('transfers with a shared book', () => {
  const transfer = (a: Account, body: object) => invoke(createTransfer, { method: 'POST', path: '/api/transfers/', token: a.access, body: { amount: '5.00', ...body } });
  const onTransfer = (id: string, a: Account, extra: object = {}) => ({ path: `/api/transfers/${id}/`, pathParameters: { id }, token: a.access, ...extra });

  it('needs the right to record in both books; is seen by the members of either; edited and deleted by who may edit both entries', async () => {
    const operatorsOwn = await defaultBookOf(operator.id);
    const viewersOwn = await defaultBookOf(viewer.id);
    const strangers = await defaultBookOf(stranger.id);

    denied('record', await transfer(viewer, { from_book: viewersOwn, to_book: book }));
    const outsider = await transfer(stranger, { from_book: strangers, to_book: book });
    expect(outsider).toMatchObject({ status: 400, body: { to_book: [`Invalid pk "${book}" - object does not exist.`] } });
    expect((await transfer(pending, { from_book: await defaultBookOf(pending.id), to_book: book })).status).toBe(400);

    const created = await transfer(operator, { from_book: operatorsOwn, to_book: book, description: 'float' });
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const t = created.body;
    expect(t.from_entry).toMatchObject({ book: operatorsOwn, created_by: ref(operator), updated_by: ref(operator) });
    expect(t.to_entry).toMatchObject({ book, created_by: ref(operator), updated_by: ref(operator) });
    const accounts = await adminQuery<{ book_id: string; user_id: string }>('SELECT book_id, user_id FROM transactions WHERE transfer_id = $1 ORDER BY type', [t.id]);
    expect(accounts).toEqual([
      { book_id: operatorsOwn, user_id: String(operator.id) },
      { book_id: book, user_id: String(owner.id) },
    ]);

    for (const member of [operator, owner, viewer]) expect((await invoke(getTransfer, onTransfer(t.id, member))).status).toBe(200);
    for (const outsiderOf of [stranger, pending, removed]) expect((await invoke(getTransfer, onTransfer(t.id, outsiderOf))).status).toBe(404);

    // Listed once, for the members of either book.
    for (const member of [operator, owner]) {
      const list = await invoke(listTransfers, { path: '/api/transfers/', token: member.access });
      expect(list.status).toBe(200);
      expect(list.body.results.filter((r: { id: string }) => r.id === t.id)).toHaveLength(1);
      expect(list.body.count).toBe(list.body.results.length);
    }
    const byBook = await invoke(listTransfers, { path: '/api/transfers/', token: viewer.access, query: { book } });
    expect(byBook.body.results.map((r: { id: string }) => r.id)).toContain(t.id);
    expect((await invoke(listTransfers, { path: '/api/transfers/', token: stranger.access, query: { book } })).status).toBe(400);

    // The owner of the receiving book is not a member of the sending one: may not change that side.
    const ownerEdit = await invoke(updateTransfer, onTransfer(t.id, owner, { method: 'PATCH', body: { description: 'owner' } }));
    expect(ownerEdit.status).toBe(403);
    expect(ownerEdit.body.code).toBe('permission_denied');
    expect((await invoke(updateTransfer, onTransfer(t.id, viewer, { method: 'PATCH', body: { description: 'viewer' } }))).status).toBe(403);
    expect((await invoke(updateTransfer, onTransfer(t.id, stranger, { method: 'PATCH', body: { description: 'x' } }))).status).toBe(404);
    // Nor through the entry endpoints, when the other side would move with it.
    expect((await patch(t.to_entry.id, owner, { date: '2026-03-03' })).status).toBe(403);
    expect((await patch(t.to_entry.id, owner, { description: 'its own side only' })).status).toBe(200);

    const edited = await invoke(updateTransfer, onTransfer(t.id, operator, { method: 'PATCH', body: { amount: '6.00' } }));
    expect(edited.status, JSON.stringify(edited.body)).toBe(200);
    expect(edited.body.from_entry.updated_by).toEqual(ref(operator));
    expect(edited.body.to_entry).toMatchObject({ amount: '6.00', updated_by: ref(operator), created_by: ref(operator) });

    expect((await invoke(removeTransfer, onTransfer(t.id, owner, { method: 'DELETE' }))).status).toBe(403);
    expect((await remove(t.to_entry.id, owner)).status).toBe(403);
    expect((await invoke(removeTransfer, onTransfer(t.id, stranger, { method: 'DELETE' }))).status).toBe(404);
    expect((await invoke(removeTransfer, onTransfer(t.id, operator, { method: 'DELETE' }))).status).toBe(204);
    expect(await deletedBy(t.from_entry.id)).toEqual([operator.id]);
    expect(await deletedBy(t.to_entry.id)).toEqual([operator.id]);
  });
});

describe('the transfers list across shared books', () => {
  it('pages the transfers of every book the caller is a member of, newest first, each once, counted exactly', async () => {
    const lister = await signUp('lister');
    const own = await defaultBookOf(lister.id);
    const shared = await newBook(owner, 'Shared with the lister');
    await addMember(shared, lister.id, 'operator', 'active', owner.id);
    const dates = ['2026-04-01', '2026-04-03', '2026-04-02'];
    const ids: string[] = [];
    for (const [i, date] of dates.entries()) {
      const [from_book, to_book] = i === 1 ? [shared, own] : [own, shared];
      const res = await invoke(createTransfer, { method: 'POST', path: '/api/transfers/', token: lister.access, body: { from_book, to_book, amount: '1.00', date } });
      expect(res.status).toBe(201);
      ids.push(res.body.id);
    }
    const newestFirst = [ids[1], ids[2], ids[0]];
    const pages = async (a: Account, query: Record<string, string> = {}) => {
      const seen: string[] = [];
      for (let page = 1; page <= 3; page += 1) {
        const res = await invoke(listTransfers, { path: '/api/transfers/', token: a.access, query: { ...query, page_size: '1', page: String(page) } });
        expect(res.status).toBe(200);
        expect(res.body.count).toBe(3);
        seen.push(...res.body.results.map((r: { id: string }) => r.id));
      }
      return seen;
    };
    expect(await pages(lister)).toEqual(newestFirst);
    // The shared book's owner sees them through the shared book alone.
    const byOwner = await invoke(listTransfers, { path: '/api/transfers/', token: owner.access, query: { book: shared } });
    expect(byOwner.body.count).toBe(3);
    expect(byOwner.body.results.map((r: { id: string }) => r.id)).toEqual(newestFirst);
    expect(await pages(lister, { date_after: '2026-04-01', date_before: '2026-04-03' })).toEqual(newestFirst);
  });
});

describe('receipts and statements of a shared book', () => {
  const onEntry = (id: string, a: Account, extra: object = {}) => ({ path: `/api/transactions/${id}/attachments/`, pathParameters: { id }, token: a.access, ...extra });
  const start = (id: string, a: Account) =>
    invoke(createAttachment, onEntry(id, a, { method: 'POST', body: { filename: 'r.pdf', content_type: 'application/pdf', size: 100 } }));
  const onAttachment = (id: string, a: Account, suffix = '', method = 'POST') => ({ method, path: `/api/attachments/${id}/${suffix}`, pathParameters: { id }, token: a.access });

  it('every member lists an entry\'s receipts; who may edit the entry attaches; the uploader or an editor deletes', async () => {
    const owners = await recorded(owner, { description: 'with receipts' });
    const operators = await recorded(operator, { description: 'operator with receipts' });

    denied('record', await start(owners.id, viewer));
    notTheirs(await start(owners.id, operator));
    for (const outsider of [pending, removed, stranger]) expect((await start(owners.id, outsider)).status).toBe(404);

    const byOperator = await start(operators.id, operator);
    expect(byOperator.status, JSON.stringify(byOperator.body)).toBe(201);
    const byAdmin = await start(operators.id, admin);
    expect(byAdmin.status).toBe(201);
    const [uploaded] = await adminQuery<{ user_id: string; created_by: string }>('SELECT user_id, created_by FROM attachments WHERE id = $1', [byOperator.body.id]);
    expect(uploaded).toEqual({ user_id: String(owner.id), created_by: String(operator.id) });

    // /complete/ is the uploader's (nothing uploaded yet: 409 for them, 404 for anyone else).
    expect((await invoke(completeAttachment, onAttachment(byOperator.body.id, operator, 'complete/'))).status).toBe(409);
    expect((await invoke(completeAttachment, onAttachment(byOperator.body.id, owner, 'complete/'))).status).toBe(404);

    for (const member of [owner, admin, operator, viewer]) {
      const list = await invoke(listAttachments, onEntry(operators.id, member));
      expect(list.status).toBe(200);
      expect(list.body.map((a: { id: string }) => a.id).sort()).toEqual([byOperator.body.id, byAdmin.body.id].sort());
    }
    for (const outsider of [pending, removed, stranger]) expect((await invoke(listAttachments, onEntry(operators.id, outsider))).status).toBe(404);

    const del = (id: string, a: Account) => invoke(removeAttachment, onAttachment(id, a, '', 'DELETE'));
    denied('record', await del(byOperator.body.id, viewer));
    notTheirs(await del(byAdmin.body.id, otherOperator));
    expect((await del(byOperator.body.id, stranger)).status).toBe(404);
    expect((await del(byAdmin.body.id, operator)).status).toBe(204); // the operator recorded the entry
    expect((await del(byOperator.body.id, operator)).status).toBe(204);
  });

  it('every member reads a statement of the book; others get 404', async () => {
    const statement = (a: Account) => invoke(statementXlsx, { path: `/api/books/${book}/statement.xlsx`, pathParameters: { id: book }, token: a.access });
    for (const member of [owner, viewer, operator]) expect((await statement(member)).status).toBe(200);
    for (const outsider of [pending, removed, stranger]) expect((await statement(outsider)).status).toBe(404);
  });
});
