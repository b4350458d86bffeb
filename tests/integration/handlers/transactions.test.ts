import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as create } from '../../../functions/create-transaction.js';
import { handler as remove } from '../../../functions/delete-transaction.js';
import { handler as retrieve } from '../../../functions/get-transaction.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as replace } from '../../../functions/replace-transaction.js';
import { handler as update } from '../../../functions/update-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

let alice: Awaited<ReturnType<typeof signUp>>;
let mallory: Awaited<ReturnType<typeof signUp>>;

const byId = (id: string, token: string, extra: object = {}) => ({
  path: `/api/transactions/${id}/`,
  pathParameters: { id },
  token,
  ...extra,
});

async function createFor(token: string, body: object) {
  const res = await invoke(create, { method: 'POST', path: '/api/transactions/', token, body });
  expect(res.status).toBe(201);
  return res.body;
}

describe('transactions (a DRF ViewSet)', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
  });
  afterAll(() => expectNoAppConnections());

  it('creates with defaults and answers the full object with amounts as strings', async () => {
    const body = await createFor(alice.access, { type: 'income', amount: 150 });
    expect(body).toMatchObject({ type: 'income', amount: '150.00', category: '', description: '', payment_mode: 'cash' });
    expect(body.date).toBe(new Date().toISOString().slice(0, 10));
    expect(body.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(body.created_at).toISOString()).toBe(body.created_at);
    await expectNoAppConnections();
  });

  it('keeps exact decimals from strings and numbers', async () => {
    expect((await createFor(alice.access, { type: 'expense', amount: '0.10' })).amount).toBe('0.10');
    expect((await createFor(alice.access, { type: 'expense', amount: 19.99 })).amount).toBe('19.99');
    expect((await createFor(alice.access, { type: 'expense', amount: '9999999999.99' })).amount).toBe('9999999999.99');
  });

  it('retrieves, replaces, patches and deletes its own transaction', async () => {
    const tx = await createFor(alice.access, { type: 'expense', amount: '12.50', category: 'food', date: '2026-01-15' });
    const got = await invoke(retrieve, byId(tx.id, alice.access));
    expect(got.body).toEqual(tx);

    const replaced = await invoke(replace, byId(tx.id, alice.access, {
      method: 'PUT',
      body: { ...tx, type: 'income', amount: '13.00', category: 'refund', description: 'x', date: '2026-01-16', payment_mode: 'upi' },
    }));
    expect(replaced.status).toBe(200);
    expect(replaced.body).toMatchObject({ type: 'income', amount: '13.00', category: 'refund', date: '2026-01-16', payment_mode: 'upi' });
    expect(replaced.body.created_at).toBe(tx.created_at);

    const patched = await invoke(update, byId(tx.id, alice.access, { method: 'PATCH', body: { description: 'patched' } }));
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({ description: 'patched', amount: '13.00' });

    const deleted = await invoke(remove, byId(tx.id, alice.access, { method: 'DELETE' }));
    expect(deleted.status).toBe(204);
    expect(deleted.raw).toBeUndefined();
    expect((await invoke(retrieve, byId(tx.id, alice.access))).status).toBe(404);
  });

  it('requires every writable field on PUT', async () => {
    const tx = await createFor(alice.access, { type: 'expense', amount: '1.00' });
    const res = await invoke(replace, byId(tx.id, alice.access, { method: 'PUT', body: { type: 'income' } }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      amount: ['This field is required.'],
      category: ['This field is required.'],
      description: ['This field is required.'],
      date: ['This field is required.'],
      payment_mode: ['This field is required.'],
    });
  });

  it("answers 404 for another user's transaction on every verb, and changes nothing", async () => {
    const tx = await createFor(alice.access, { type: 'income', amount: '5.00' });
    const token = mallory.access;
    expect((await invoke(retrieve, byId(tx.id, token))).body).toEqual({ detail: 'Not found.' });
    expect((await invoke(update, byId(tx.id, token, { method: 'PATCH', body: { amount: '1.00' } }))).status).toBe(404);
    expect((await invoke(replace, byId(tx.id, token, { method: 'PUT', body: { ...tx, amount: '1.00' } }))).status).toBe(404);
    expect((await invoke(remove, byId(tx.id, token, { method: 'DELETE' }))).status).toBe(404);
    const [row] = await adminQuery<{ amount: string }>('SELECT amount::text FROM transactions WHERE id = $1', [tx.id]);
    expect(row?.amount).toBe('5.00');
    const theirs = await invoke(list, { path: '/api/transactions/', token });
    expect(theirs.body.count).toBe(0);
  });

  it('answers 404 for a malformed id without touching the database', async () => {
    const res = await invoke(retrieve, byId('not-a-uuid', alice.access));
    expect(res.status).toBe(404);
  });

  it('paginates DRF-style, newest first, with full next/previous URLs', async () => {
    const bob = await signUp('bob');
    for (let day = 1; day <= 5; day++) {
      await createFor(bob.access, { type: 'expense', amount: `${day}.00`, date: `2026-03-0${day}` });
    }
    const page1 = await invoke(list, { path: '/api/transactions/', token: bob.access, query: { page_size: '2' } });
    expect(page1.body.count).toBe(5);
    expect(page1.body.results.map((t: { date: string }) => t.date)).toEqual(['2026-03-05', '2026-03-04']);
    expect(page1.body.previous).toBeNull();
    expect(page1.body.next).toBe('https://api.example.com/api/transactions/?page_size=2&page=2');

    const page3 = await invoke(list, { path: '/api/transactions/', token: bob.access, query: { page_size: '2', page: '3' } });
    expect(page3.body.results).toHaveLength(1);
    expect(page3.body.next).toBeNull();
    expect(page3.body.previous).toBe('https://api.example.com/api/transactions/?page_size=2&page=2');

    const past = await invoke(list, { path: '/api/transactions/', token: bob.access, query: { page: '9' } });
    expect(past.status).toBe(404);
    expect(past.body).toEqual({ detail: 'Invalid page.' });
  });

  it('lists an empty first page for a new user', async () => {
    const carol = await signUp('carol');
    const res = await invoke(list, { path: '/api/transactions/', token: carol.access });
    expect(res.body).toEqual({ count: 0, next: null, previous: null, results: [] });
  });
});
