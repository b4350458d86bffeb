import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as getTx } from '../../../functions/get-transaction.js';
import { handler as history } from '../../../functions/get-transaction-history.js';
import { handler as activity } from '../../../functions/list-book-activity.js';
import { handler as replaceTx } from '../../../functions/replace-transaction.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';
import { addMember, defaultBookOf } from '../../support/sharing.js';

// GET /api/transactions/{id}/history/ and GET /api/books/{id}/activity/: what the triggers of
// migration 1764000080000 recorded, read by the book's active members only.

type User = Awaited<ReturnType<typeof signUp>>;
let owner: User;
let viewer: User;
let pending: User;
let removed: User;
let stranger: User;
let book: string;

const FIELDS = ['book', 'type', 'amount', 'category', 'description', 'date', 'payment_mode', 'transfer'] as const;
type Fields = Record<(typeof FIELDS)[number], string | null>;

const at = (id: string, token: string, extra: object = {}) => ({ path: `/api/transactions/${id}/`, pathParameters: { id }, token, ...extra });
const historyOf = (id: string, token: string) => invoke(history, { path: `/api/transactions/${id}/history/`, pathParameters: { id }, token });
const activityOf = (bookId: string, token: string, query?: Record<string, string>) =>
  invoke(activity, { path: `/api/books/${bookId}/activity/`, pathParameters: { id: bookId }, token, query });

/** An entry as the API answers it, reduced to the fields its versions record. */
const fieldsOf = (tx: Record<string, unknown>): Fields => Object.fromEntries(FIELDS.map((f) => [f, (tx[f] ?? null) as string | null])) as Fields;

/** Versions 1..n applied in order: every field's new value; after "deleted", nothing. */
function replay(versions: Array<{ action: string; changes: Record<string, [string | null, string | null]> }>): Fields | null {
  let row: Partial<Fields> | null = null;
  for (const v of versions) {
    if (v.action === 'created') row = {};
    if (row === null) throw new Error(`version after a deletion: ${JSON.stringify(v)}`);
    for (const [field, [old, now]] of Object.entries(v.changes)) {
      if (v.action !== 'created') expect(old, `${field}'s old value in ${v.action}`).toEqual(row[field as keyof Fields] ?? null);
      row[field as keyof Fields] = now;
    }
    if (v.action === 'deleted') row = null;
  }
  return row as Fields | null;
}

async function newTx(token: string, body: object) {
  const res = await invoke(createTx, { method: 'POST', path: '/api/transactions/', token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

describe('history and activity', () => {
  beforeAll(async () => {
    await resetData();
    [owner, viewer, pending, removed, stranger] = await Promise.all([signUp('owner'), signUp('viewer'), signUp('pending'), signUp('removed'), signUp('stranger')]);
    book = await defaultBookOf(owner.id);
    await addMember(book, viewer.id, 'viewer');
    await addMember(book, pending.id, 'operator', 'pending', owner.id);
    await addMember(book, removed.id, 'operator', 'removed', owner.id);
  });
  afterAll(() => expectNoAppConnections());

  it('records a version per change, oldest first; replaying them gives the entry, then nothing after its deletion', async () => {
    const tx = await newTx(owner.access, { type: 'expense', amount: '12.50', category: 'food', description: 'lunch', date: '2026-01-15' });
    const other = (await invoke(createBook, { method: 'POST', path: '/api/books/', token: owner.access, body: { name: 'Trip' } })).body;
    const patched = await invoke(updateTx, at(tx.id, owner.access, { method: 'PATCH', body: { amount: '13.00', category: 'groceries' } }));
    expect(patched.status).toBe(200);
    // A write that changes nothing records nothing.
    expect((await invoke(updateTx, at(tx.id, owner.access, { method: 'PATCH', body: { amount: '13.00' } }))).status).toBe(200);
    const replaced = await invoke(replaceTx, at(tx.id, owner.access, {
      method: 'PUT',
      body: { type: 'income', amount: '13.00', category: 'refund', description: 'x', date: '2026-01-16', payment_mode: 'upi', book: other.id },
    }));
    expect(replaced.status).toBe(200);

    const before = await historyOf(tx.id, owner.access);
    expect(before.status).toBe(200);
    expect(before.body.map((v: { version: number; action: string }) => [v.version, v.action])).toEqual([[1, 'created'], [2, 'updated'], [3, 'updated']]);
    const [created, amended] = before.body;
    expect(created).toEqual({
      version: 1,
      action: 'created',
      at: tx.created_at,
      actor: created.actor, // null until the API writes created_by; then the owner (checked below)
      changes: {
        book: [null, book], type: [null, 'expense'], amount: [null, '12.50'], category: [null, 'food'],
        description: [null, 'lunch'], date: [null, '2026-01-15'], payment_mode: [null, 'cash'], transfer: [null, null],
      },
    });
    expect([null, owner.id]).toContain(created.actor?.id ?? null);
    expect(amended.changes).toEqual({ amount: ['12.50', '13.00'], category: ['food', 'groceries'] });
    expect(amended.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(before.body[2].changes.book).toEqual([book, other.id]);
    expect(replay(before.body)).toEqual(fieldsOf((await invoke(getTx, at(tx.id, owner.access))).body));

    expect((await invoke(deleteTx, at(tx.id, owner.access, { method: 'DELETE' }))).status).toBe(204);
    const after = await historyOf(tx.id, owner.access);
    expect(after.status).toBe(200);
    expect(after.body.slice(0, 3)).toEqual(before.body);
    expect(after.body[3]).toMatchObject({ version: 4, action: 'deleted', changes: { amount: ['13.00', null], book: [other.id, null], transfer: [null, null] } });
    expect(replay(after.body)).toBeNull();
  });

  it('shows each version\'s actor from the row written (created_by, updated_by, the deletion\'s claim), null for a deleted account', async () => {
    const gone = await signUp('gone');
    await addMember(book, gone.id, 'operator');
    const { id } = (await adminQuery<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, created_by, updated_by) VALUES ($1, $2, 'income', 5, $3, $3) RETURNING id`,
      [owner.id, book, gone.id],
    ))[0]!;
    await adminQuery('UPDATE transactions SET amount = 6, updated_by = $2 WHERE id = $1', [id, viewer.id]);
    await adminQuery(
      `WITH claim AS (INSERT INTO entry_deletions (transaction_id, actor_id) VALUES ($1, $2) RETURNING transaction_id)
       DELETE FROM transactions WHERE id IN (SELECT transaction_id FROM claim)`,
      [id, owner.id],
    );
    await adminQuery('DELETE FROM users WHERE id = $1', [gone.id]);
    const res = await historyOf(id, viewer.access);
    expect(res.status).toBe(200);
    expect(res.body.map((v: { action: string; actor: unknown }) => [v.action, v.actor])).toEqual([
      ['created', null],
      ['updated', { id: viewer.id, username: viewer.username }],
      ['deleted', { id: owner.id, username: owner.username }],
    ]);
    expect((await adminQuery('SELECT 1 FROM entry_deletions WHERE transaction_id = $1', [id])).length).toBe(0);
  });

  it('answers an entry recorded before history from the row (imported), exactly as its first change then writes it', async () => {
    const { id, created_at } = (await adminQuery<{ id: string; created_at: Date }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date, created_at, legacy)
       VALUES ($1, $2, 'expense', '7.25', 'tea', '2024-05-01', '2024-05-01 12:00:00.123+00', true) RETURNING id, created_at`,
      [owner.id, book],
    ))[0]!;
    // Before the migration there was no trigger: no version.
    await adminQuery('DELETE FROM book_activity WHERE transaction_id = $1', [id]);
    const shown = await historyOf(id, viewer.access);
    expect(shown.status).toBe(200);
    expect(shown.body).toEqual([{
      version: 1,
      action: 'created',
      at: created_at.toISOString(),
      actor: { id: owner.id, username: owner.username },
      changes: {
        book: [null, book], type: [null, 'expense'], amount: [null, '7.25'], category: [null, 'tea'],
        description: [null, ''], date: [null, '2024-05-01'], payment_mode: [null, 'cash'], transfer: [null, null],
      },
      imported: true,
    }]);
    expect((await invoke(updateTx, at(id, owner.access, { method: 'PATCH', body: { description: 'chai' } }))).status).toBe(200);
    const written = await historyOf(id, viewer.access);
    expect(written.body[0]).toEqual(shown.body[0]);
    expect(written.body[1]).toMatchObject({ version: 2, action: 'updated', changes: { description: ['', 'chai'] } });
    expect(written.body[1]).not.toHaveProperty('imported');
    expect(replay(written.body)).toEqual(fieldsOf((await invoke(getTx, at(id, owner.access))).body));
  });

  it('lets any active member read an entry\'s history, also once deleted; 404 for pending, removed, strangers and unknown ids', async () => {
    const tx = await newTx(owner.access, { type: 'income', amount: '1.00' });
    const readers = async () =>
      Promise.all([owner, viewer, pending, removed, stranger].map(async (u) => (await historyOf(tx.id, u.access)).status));
    expect(await readers()).toEqual([200, 200, 404, 404, 404]);
    expect((await invoke(deleteTx, at(tx.id, owner.access, { method: 'DELETE' }))).status).toBe(204);
    expect(await readers()).toEqual([200, 200, 404, 404, 404]);
    expect((await historyOf(tx.id, viewer.access)).body.at(-1).action).toBe('deleted');
    const missing = await historyOf('00000000-0000-4000-8000-000000000000', owner.access);
    expect(missing).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect((await historyOf('not-a-uuid', owner.access)).status).toBe(404);
    expect((await invoke(history, { path: `/api/transactions/${tx.id}/history/`, pathParameters: { id: tx.id } })).status).toBe(401);
  });

  it('refuses a deactivated member as every data endpoint does (401), whatever their membership', async () => {
    const tx = await newTx(owner.access, { type: 'income', amount: '3.00' });
    const idle = await signUp('idle');
    await addMember(book, idle.id, 'admin');
    expect((await historyOf(tx.id, idle.access)).status).toBe(200);
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [idle.id]);
    expect(await historyOf(tx.id, idle.access)).toMatchObject({ status: 401, body: { code: 'user_inactive' } });
    expect(await activityOf(book, idle.access)).toMatchObject({ status: 401, body: { code: 'user_inactive' } });
  });

  it('stops answering a member the moment they are removed', async () => {
    const tx = await newTx(owner.access, { type: 'income', amount: '2.00' });
    const leaving = await signUp('leaving');
    await addMember(book, leaving.id, 'viewer');
    expect((await historyOf(tx.id, leaving.access)).status).toBe(200);
    expect((await activityOf(book, leaving.access)).status).toBe(200);
    await adminQuery(`UPDATE book_members SET status = 'removed', updated_by = $3 WHERE book_id = $1 AND user_id = $2`, [book, leaving.id, owner.id]);
    expect((await historyOf(tx.id, leaving.access)).status).toBe(404);
    expect((await activityOf(book, leaving.access)).status).toBe(404);
  });
});

describe('book activity', () => {
  let shop: string;
  let clerk: User;
  const entries: string[] = [];

  beforeAll(async () => {
    clerk = await signUp('clerk');
    shop = (await invoke(createBook, { method: 'POST', path: '/api/books/', token: owner.access, body: { name: 'Shop' } })).body.id;
    // Invited (pending), then joined: two membership changes by the owner, then the clerk's.
    await addMember(shop, clerk.id, 'operator', 'pending', owner.id);
    await adminQuery(`UPDATE book_members SET status = 'active', updated_by = $2 WHERE book_id = $1 AND user_id = $2`, [shop, clerk.id]);
    await addMember(shop, viewer.id, 'viewer', 'pending', owner.id);
    await adminQuery(`UPDATE book_members SET status = 'active', updated_by = $2 WHERE book_id = $1 AND user_id = $2`, [shop, viewer.id]);
    // Seven entries, one statement: alternately recorded by the owner and the clerk.
    const rows = await adminQuery<{ id: string }>(
      `INSERT INTO transactions (user_id, book_id, type, amount, created_by, updated_by)
       SELECT $1, $2, 'expense', i, CASE WHEN i % 2 = 0 THEN $3::bigint ELSE $1::bigint END, CASE WHEN i % 2 = 0 THEN $3::bigint ELSE $1::bigint END
       FROM generate_series(1, 7) AS i ORDER BY i RETURNING id`,
      [owner.id, shop, clerk.id],
    );
    entries.push(...rows.map((r) => r.id));
  });

  it('pages the book\'s changes newest first, DRF-style, each with its actor, entry, version and member', async () => {
    const all = await activityOf(shop, viewer.access, { page_size: '500' });
    expect(all.status).toBe(200);
    expect(all.body.count).toBe(11);
    const ids = all.body.results.map((a: { id: number }) => a.id);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    expect(all.body.results.slice(7).map((a: { action: string; member: { id: number } }) => [a.action, a.member.id])).toEqual([
      ['joined', viewer.id], ['invited', viewer.id], ['joined', clerk.id], ['invited', clerk.id],
    ]);
    expect(all.body.results.at(-1)).toEqual({
      id: ids.at(-1),
      at: expect.stringMatching(/Z$/),
      actor: { id: owner.id, username: owner.username },
      action: 'invited',
      entry: null,
      version: null,
      member: { id: clerk.id, username: clerk.username },
      changes: { role: [null, 'operator'], status: [null, 'pending'] },
    });
    expect(all.body.results[7]).toMatchObject({ action: 'joined', actor: { id: viewer.id }, changes: { status: ['pending', 'active'] } });
    const newest = all.body.results[0];
    expect(newest).toMatchObject({ action: 'created', entry: entries[6], version: 1, member: null, actor: { id: owner.id } });
    expect(newest.changes.amount).toEqual([null, '7.00']);

    const first = await activityOf(shop, viewer.access, { page_size: '4' });
    expect(first.body).toMatchObject({ count: 11, previous: null, next: `https://api.example.com/api/books/${shop}/activity/?page_size=4&page=2` });
    expect(first.body.results).toEqual(all.body.results.slice(0, 4));
    const last = await activityOf(shop, viewer.access, { page_size: '4', page: '3' });
    expect(last.body).toMatchObject({ count: 11, next: null, previous: `https://api.example.com/api/books/${shop}/activity/?page_size=4&page=2` });
    expect(last.body.results).toEqual(all.body.results.slice(8));
    expect(await activityOf(shop, viewer.access, { page_size: '4', page: '4' })).toMatchObject({ status: 404, body: { detail: 'Invalid page.' } });
  });

  it('filters by actor and by UTC day, both ends inclusive', async () => {
    const byClerk = await activityOf(shop, viewer.access, { actor: String(clerk.id), page_size: '500' });
    expect(byClerk.body.count).toBe(4);
    expect(byClerk.body.results.map((a: { action: string }) => a.action)).toEqual(['created', 'created', 'created', 'joined']);
    expect(byClerk.body.results.every((a: { actor: { id: number } }) => a.actor.id === clerk.id)).toBe(true);
    expect((await activityOf(shop, viewer.access, { actor: '999999999' })).body).toMatchObject({ count: 0, results: [] });

    // An administrator's clock: place four of the entries' versions around a day's edges.
    const moments = ['2025-01-01T23:59:59.999Z', '2025-01-02T00:00:00.000Z', '2025-01-02T23:59:59.999Z', '2025-01-03T00:00:00.000Z'];
    for (const [i, moment] of moments.entries()) {
      await adminQuery('UPDATE book_activity SET at = $2 WHERE transaction_id = $1', [entries[i], moment]);
    }
    const day = await activityOf(shop, viewer.access, { date_after: '2025-01-02', date_before: '2025-01-02' });
    expect(day.body.count).toBe(2);
    expect(day.body.results.map((a: { at: string }) => a.at)).toEqual([moments[2], moments[1]]);
    expect((await activityOf(shop, viewer.access, { date_before: '2025-01-01' })).body.results.map((a: { entry: string }) => a.entry)).toEqual([entries[0]]);
    expect((await activityOf(shop, viewer.access, { date_after: '2025-01-03', date_before: '2025-01-03' })).body.count).toBe(1);
    const clerkThatDay = await activityOf(shop, viewer.access, { actor: String(clerk.id), date_after: '2025-01-02', date_before: '2025-01-02' });
    expect(clerkThatDay.body.results.map((a: { entry: string }) => a.entry)).toEqual([entries[1]]);
    // Empty values are ignored, as django-filter does.
    expect((await activityOf(shop, viewer.access, { actor: '', date_after: '' })).body.count).toBe(11);
  });

  it('refuses bad filters with field errors naming them', async () => {
    const bad = async (query: Record<string, string>) => {
      const res = await activityOf(shop, viewer.access, query);
      expect(res.status, JSON.stringify(query)).toBe(400);
      return res.body;
    };
    expect(await bad({ actor: 'me' })).toEqual({ actor: ['Enter a whole number.'] });
    expect(await bad({ actor: '0' })).toEqual({ actor: ['Enter a whole number.'] });
    expect(await bad({ actor: '9'.repeat(10_000) })).toEqual({ actor: ['Enter a whole number.'] });
    expect(await bad({ date_after: '2025-02-30' })).toEqual({ date_after: ['Enter a valid date.'] });
    expect(await bad({ date_before: 'x'.repeat(100_000) })).toEqual({ date_before: ['Enter a valid date.'] });
    expect(await bad({ page_size: '501' })).toEqual({ page_size: ['page_size must be at most 500.'] });
  });

  it('is read by every active member and nobody else (404 as for a missing book)', async () => {
    const outsider = await signUp('outsider');
    await addMember(shop, outsider.id, 'viewer', 'pending', owner.id);
    const statuses = await Promise.all([owner, clerk, viewer, outsider, stranger].map(async (u) => (await activityOf(shop, u.access)).status));
    expect(statuses).toEqual([200, 200, 200, 404, 404]);
    expect(await activityOf('00000000-0000-4000-8000-000000000000', owner.access)).toMatchObject({ status: 404, body: { detail: 'Not found.' } });
    expect((await activityOf('nope', owner.access)).status).toBe(404);
    expect((await invoke(activity, { path: `/api/books/${shop}/activity/`, pathParameters: { id: shop } })).status).toBe(401);
  });
});
