import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as deleteBook } from '../../functions/delete-book.js';
import { handler as history } from '../../functions/get-transaction-history.js';
import { handler as activity } from '../../functions/list-book-activity.js';
import { withConnection } from '../../lib/db.js';
import { insertTransactions, upsertTransactions } from '../../scripts/lib/django-write.js';
import { signUp } from '../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../support/db.js';
import { invoke } from '../support/events.js';
import { addMember, defaultBookOf } from '../support/sharing.js';

// History is written by the database, whatever writes (issue 18, "Guarantees"): plain SQL through
// the application role, as a bulk fix or an import would run it, records one version per row in
// the same statement; the role can never rewrite or erase what was recorded; cascades keep or
// drop history as the book's and the users' lifetimes say.

type User = Awaited<ReturnType<typeof signUp>>;

/** One statement as the application role (the role the API connects as). */
const asApp = <R,>(text: string, values: unknown[] = []) => withConnection(async (db) => (await db.query(text, values)).rows as R[]);

const versionsOf = (where: string, values: unknown[]) =>
  adminQuery<{ transaction_id: string; version: number; action: string; actor_id: string | null; changes: Record<string, [unknown, unknown]> }>(
    `SELECT transaction_id, version, action, actor_id, changes FROM book_activity WHERE ${where} ORDER BY transaction_id, version`,
    values,
  );

const historyOf = (id: string, token: string) => invoke(history, { path: `/api/transactions/${id}/history/`, pathParameters: { id }, token });

describe('book_activity, written by triggers', () => {
  let alice: User;
  let bob: User;
  let book: string;

  beforeAll(async () => {
    await resetData();
    [alice, bob] = await Promise.all([signUp('alice'), signUp('bob')]);
    book = await defaultBookOf(alice.id);
  });
  afterAll(() => expectNoAppConnections());

  it('records one version per row of a bulk INSERT ... SELECT and of a bulk UPDATE by the application role', async () => {
    const inserted = await asApp<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, created_by, updated_by)
       SELECT $1, $2, 'expense', i, 'bulk', $1, $1 FROM generate_series(1, 200) AS i RETURNING id`,
      [alice.id, book],
    );
    expect(inserted).toHaveLength(200);
    const ids = inserted.map((r) => r.id);
    const created = await versionsOf('transaction_id = ANY($1::uuid[])', [ids]);
    expect(created).toHaveLength(200);
    expect(created.every((v) => v.version === 1 && v.action === 'created' && Number(v.actor_id) === alice.id)).toBe(true);
    expect(created.every((v) => Object.keys(v.changes).length === 8 && v.changes.category![1] === 'bulk')).toBe(true);

    await asApp(`UPDATE transactions SET amount = amount + 1, updated_by = $2 WHERE book_id = $1 AND category = 'bulk'`, [book, bob.id]);
    // Touching a row without changing a field the history shows records nothing.
    await asApp(`UPDATE transactions SET updated_at = now() WHERE book_id = $1 AND category = 'bulk'`, [book]);
    const updated = await versionsOf(`transaction_id = ANY($1::uuid[]) AND action = 'updated'`, [ids]);
    expect(updated).toHaveLength(200);
    for (const v of updated) {
      expect(v.version).toBe(2);
      expect(Number(v.actor_id)).toBe(bob.id);
      expect(Object.keys(v.changes)).toEqual(['amount']);
      expect(Number(v.changes.amount![1]) - Number(v.changes.amount![0])).toBe(1);
    }

    // A bulk delete without claims: recorded, with no actor; one with claims: the claimant.
    const [claimed, ...rest] = ids;
    await asApp(
      `WITH locked AS (SELECT id FROM transactions WHERE id = $1 FOR UPDATE), claim AS (
         INSERT INTO entry_deletions (transaction_id, actor_id) SELECT id, $2 FROM locked RETURNING transaction_id
       ) DELETE FROM transactions WHERE id IN (SELECT transaction_id FROM claim)`,
      [claimed, bob.id],
    );
    await asApp('DELETE FROM transactions WHERE id = ANY($1::uuid[])', [rest]);
    const deleted = await versionsOf(`transaction_id = ANY($1::uuid[]) AND action = 'deleted'`, [ids]);
    expect(deleted).toHaveLength(200);
    expect(deleted.every((v) => v.version === 3)).toBe(true);
    expect(deleted.filter((v) => v.actor_id !== null).map((v) => [v.transaction_id, Number(v.actor_id)])).toEqual([[claimed, bob.id]]);
    expect(await adminQuery('SELECT * FROM entry_deletions')).toEqual([]);
  });

  it('lets the application role insert and read history, never update, delete or truncate it', async () => {
    const [row] = await asApp<{ id: string }>(`INSERT INTO book_activity (book_id, action) VALUES ($1, 'invited') RETURNING id`, [book]);
    expect((await asApp('SELECT id FROM book_activity WHERE id = $1', [row!.id]))).toHaveLength(1);
    await expect(asApp(`UPDATE book_activity SET changes = '{}' WHERE id = $1`, [row!.id])).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
    await expect(asApp('DELETE FROM book_activity WHERE id = $1', [row!.id])).rejects.toMatchObject({ code: '42501', message: expect.stringMatching(/permission denied/) });
    await expect(asApp('TRUNCATE book_activity')).rejects.toMatchObject({ code: '42501' });
    expect(await adminQuery('SELECT id FROM book_activity WHERE id = $1', [row!.id])).toHaveLength(1);
  });

  it('removes a book\'s activity with the book (entries and membership alike)', async () => {
    const carol = await signUp('carol');
    const { id: trip } = (await adminQuery<{ id: string }>(`INSERT INTO books (user_id, name, currency) VALUES ($1, 'Trip', 'INR') RETURNING id`, [carol.id]))[0]!;
    await addMember(trip, bob.id, 'viewer', 'pending', carol.id);
    await asApp(`INSERT INTO transactions (user_id, book_id, type, amount, created_by) SELECT $1, $2, 'income', i, $1 FROM generate_series(1, 5) AS i`, [carol.id, trip]);
    await asApp(`UPDATE transactions SET amount = amount * 2, updated_by = $1 WHERE book_id = $2`, [carol.id, trip]);
    expect(Number((await adminQuery<{ n: string }>('SELECT count(*) AS n FROM book_activity WHERE book_id = $1', [trip]))[0]!.n)).toBe(11);
    const res = await invoke(deleteBook, { method: 'DELETE', path: `/api/books/${trip}/`, pathParameters: { id: trip }, query: { force: 'true' }, token: carol.access });
    expect(res.status).toBe(204);
    expect(await adminQuery('SELECT id FROM book_activity WHERE book_id = $1', [trip])).toEqual([]);
  });

  it('keeps the whole history of an entry moved out of a book that is then deleted', async () => {
    const dave = await signUp('dave');
    const newBook = async (name: string) =>
      (await adminQuery<{ id: string }>(`INSERT INTO books (user_id, name, currency) VALUES ($1, $2, 'INR') RETURNING id`, [dave.id, name]))[0]!.id;
    const [from, to] = [await newBook('From'), await newBook('To')];
    const [entry] = await asApp<{ id: string }>(`INSERT INTO transactions (user_id, book_id, type, amount, created_by) VALUES ($1, $2, 'income', 5, $1) RETURNING id`, [dave.id, from]);
    await asApp(`UPDATE transactions SET amount = 6, updated_by = $1 WHERE id = $2`, [dave.id, entry!.id]);
    await asApp(`UPDATE transactions SET book_id = $3, updated_by = $1 WHERE id = $2`, [dave.id, entry!.id, to]);
    const res = await invoke(deleteBook, { method: 'DELETE', path: `/api/books/${from}/`, pathParameters: { id: from }, token: dave.access });
    expect(res.status).toBe(204);
    const versions = await versionsOf('transaction_id = $1', [entry!.id]);
    expect(versions.map((v) => [v.version, v.action])).toEqual([[1, 'created'], [2, 'updated'], [3, 'updated']]);
    expect((await historyOf(entry!.id, dave.access)).body.map((v: { version: number }) => v.version)).toEqual([1, 2, 3]);
  });

  it('keeps the entries a deleted user recorded in another\'s book, their actor shown as a deleted account', async () => {
    const dave = await signUp('dave');
    await addMember(book, dave.id, 'operator');
    const { id } = (await asApp<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, created_by, updated_by) VALUES ($1, $2, 'expense', 3, $3, $3) RETURNING id`,
      [alice.id, book, dave.id],
    ))[0]!;
    // As the API writes it: updated_by and updated_at (a write naming neither is no one's).
    await asApp('UPDATE transactions SET amount = 4, updated_by = $2, updated_at = now() WHERE id = $1', [id, dave.id]);
    await asApp('UPDATE transactions SET category = $2 WHERE id = $1', [id, 'fixed by hand']);
    expect((await versionsOf('transaction_id = $1', [id])).map((v) => [v.action, v.actor_id && Number(v.actor_id)])).toEqual([
      ['created', dave.id],
      ['updated', dave.id],
      ['updated', null],
    ]);
    await adminQuery('DELETE FROM users WHERE id = $1', [dave.id]);
    expect(await adminQuery('SELECT created_by::int AS created_by FROM transactions WHERE id = $1', [id])).toEqual([{ created_by: dave.id }]);
    const res = await historyOf(id, alice.access);
    expect(res.status).toBe(200);
    expect(res.body.map((v: { action: string; actor: unknown }) => [v.action, v.actor])).toEqual([['created', null], ['updated', null], ['updated', null]]);
    const feed = await invoke(activity, { path: `/api/books/${book}/activity/`, pathParameters: { id: book }, token: alice.access, query: { actor: String(dave.id) } });
    expect(feed.body.count).toBe(2);
  });

  it('keeps a book whose ownership was handed on when its creator is deleted: under its new owner, with its history', async () => {
    const erin = await signUp('erin');
    const frank = await signUp('frank');
    const { id: shop } = (await adminQuery<{ id: string }>(`INSERT INTO books (user_id, name, currency) VALUES ($1, 'Shop', 'INR') RETURNING id`, [erin.id]))[0]!;
    const entries = await asApp<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, created_by, updated_by) SELECT $1, $2, 'income', i, $1, $1 FROM generate_series(1, 3) AS i RETURNING id`,
      [erin.id, shop],
    );
    await addMember(shop, frank.id, 'admin');
    // Ownership handed on: both rows in one statement (one owner at commit).
    await adminQuery(
      `UPDATE book_members SET role = CASE user_id WHEN $2 THEN 'owner' ELSE 'admin' END, updated_by = $3 WHERE book_id = $1 AND user_id IN ($2, $3)`,
      [shop, frank.id, erin.id],
    );
    const before = await historyOf(entries[0]!.id, frank.access);
    expect(before.status).toBe(200);

    await adminQuery('DELETE FROM users WHERE id = $1', [erin.id]);
    expect(await adminQuery('SELECT user_id::int AS user_id, is_default FROM books WHERE id = $1', [shop])).toEqual([{ user_id: frank.id, is_default: false }]);
    const moved = await adminQuery<{ user_id: number }>('SELECT DISTINCT user_id::int AS user_id FROM transactions WHERE book_id = $1', [shop]);
    expect(moved).toEqual([{ user_id: frank.id }]);
    const after = await historyOf(entries[0]!.id, frank.access);
    expect(after.status).toBe(200);
    // The re-homing changes no field the history shows: the same versions, the creator now a deleted account.
    expect(after.body).toEqual(before.body.map((v: object) => ({ ...v, actor: null })));
    const feed = await invoke(activity, { path: `/api/books/${shop}/activity/`, pathParameters: { id: shop }, token: frank.access });
    expect(feed.status).toBe(200);
    const actions = feed.body.results.map((a: { action: string }) => a.action);
    // The two membership rows of one statement: in whichever order it met them.
    expect([...actions.slice(0, 2)].sort()).toEqual(['ownership_transferred', 'role_changed']);
    expect(actions.slice(2)).toEqual(['created', 'created', 'created']);
  });

  it('records the versions of what import-django writes (a first import, then a re-run with a changed row)', async () => {
    const grace = await signUp('grace');
    const row = (amount: string) => ({
      id: 'a3e1c1c0-1111-4000-8000-000000000001', user_id: grace.id, type: 'expense', amount, category: 'food', description: 'lunch',
      date: '2024-05-01', payment_mode: 'cash', created_at: '2024-05-01T12:00:00.123456Z', updated_at: '2024-05-01T12:00:00.123456Z',
    });
    expect(await withConnection((db) => insertTransactions(db, JSON.stringify([row('10.00')])))).toBe(1);
    expect(await withConnection((db) => upsertTransactions(db, JSON.stringify([row('10.00')])))).toEqual({ inserted: 0, updated: 0 });
    expect(await withConnection((db) => upsertTransactions(db, JSON.stringify([{ ...row('11.00'), updated_at: '2024-06-01T00:00:00Z' }])))).toEqual({ inserted: 0, updated: 1 });
    const res = await historyOf(row('').id, grace.access);
    expect(res.status).toBe(200);
    expect(res.body.map((v: { version: number; action: string; at: string; changes: object }) => [v.version, v.action, v.changes])).toEqual([
      [1, 'created', {
        book: [null, await defaultBookOf(grace.id)], type: [null, 'expense'], amount: [null, '10.00'], category: [null, 'food'],
        description: [null, 'lunch'], date: [null, '2024-05-01'], payment_mode: [null, 'cash'], transfer: [null, null],
      }],
      [2, 'updated', { amount: ['10.00', '11.00'] }],
    ]);
    // The created version is dated as the old backend recorded the entry.
    expect(res.body[0].at).toBe('2024-05-01T12:00:00.123Z');
  });
});
