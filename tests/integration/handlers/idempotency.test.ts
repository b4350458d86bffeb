import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Idempotency-Key on POST /api/transactions/ and POST /api/books/ (Stripe-like).

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let mallory: User;

const post = (token: string, key: string | undefined, body: object, handler: unknown = createTx, path = '/api/transactions/') =>
  invoke(handler, { method: 'POST', path, token, body, ...(key !== undefined ? { headers: { 'idempotency-key': key } } : {}) });

async function rowsWith(description: string): Promise<number> {
  const [row] = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM transactions WHERE description = $1', [description]);
  return Number(row?.n);
}

describe('Idempotency-Key', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
  });
  afterAll(() => expectNoAppConnections());

  it('replays the first response (status and body) without a second row', async () => {
    const body = { type: 'expense', amount: '12.30', description: 'replayed' };
    const first = await post(alice.access, 'key-1', body);
    expect(first.status).toBe(201);
    expect(first.headers['Idempotent-Replayed']).toBeUndefined();
    const again = await post(alice.access, 'key-1', { ...body, amount: 12.3 });
    expect(again.status).toBe(201);
    expect(again.raw).toBe(first.raw);
    expect(again.headers['Idempotent-Replayed']).toBe('true');
    expect(await rowsWith('replayed')).toBe(1);
  });

  it('answers 422 for the same key with a different body, and 422 on another endpoint', async () => {
    await post(alice.access, 'key-2', { type: 'income', amount: '1.00', description: 'first' });
    const other = await post(alice.access, 'key-2', { type: 'income', amount: '2.00', description: 'first' });
    expect(other.status).toBe(422);
    expect(other.body).toEqual({ detail: 'This Idempotency-Key was already used with a different request.' });
    const book = await post(alice.access, 'key-2', { name: 'x' }, createBook, '/api/books/');
    expect(book.status).toBe(422);
    expect(await rowsWith('first')).toBe(1);
  });

  it('keeps keys per user: the same key of another user is a different request', async () => {
    const body = { type: 'income', amount: '3.00', description: 'per-user' };
    expect((await post(alice.access, 'shared', body)).status).toBe(201);
    const theirs = await post(mallory.access, 'shared', body);
    expect(theirs.status).toBe(201);
    expect(theirs.headers['Idempotent-Replayed']).toBeUndefined();
    expect(await rowsWith('per-user')).toBe(2);
  });

  it('creates exactly one row when the same key arrives 20 times at once', async () => {
    const body = { type: 'expense', amount: '7.77', description: 'stampede' };
    const replies = await Promise.all(Array.from({ length: 20 }, () => post(alice.access, 'stampede-key', body)));
    const statuses = replies.map((r) => r.status);
    expect(statuses.every((s) => s === 201 || s === 409), statuses.join(',')).toBe(true);
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    expect(new Set(created.map((r) => r.body.id)).size).toBe(1);
    for (const busy of replies.filter((r) => r.status === 409)) {
      expect(busy.body).toEqual({ detail: 'A request with this Idempotency-Key is still being processed. Retry shortly.' });
      expect(busy.headers['Retry-After']).toBe('1');
    }
    expect(await rowsWith('stampede')).toBe(1);
    const later = await post(alice.access, 'stampede-key', body);
    expect(later.status).toBe(201);
    expect(later.body.id).toBe(created[0]!.body.id);
  });

  it('answers 409 while the first request with the key is still in flight', async () => {
    await adminQuery(`INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, 'in-flight', 'x')`, [alice.id]);
    const res = await post(alice.access, 'in-flight', { type: 'income', amount: 1 });
    // Different hash: reported as a different request first.
    expect(res.status).toBe(422);
    const [{ hash } = { hash: '' }] = await adminQuery<{ hash: string }>(
      `SELECT request_hash AS hash FROM idempotency_keys WHERE key = 'stampede-key' AND user_id = $1`,
      [alice.id],
    );
    await adminQuery(`INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, 'in-flight-2', $2)`, [alice.id, hash]);
    const busy = await post(alice.access, 'in-flight-2', { type: 'expense', amount: '7.77', description: 'stampede' });
    expect(busy.status).toBe(409);
  });

  it('takes over an abandoned claim and an expired key, and purges the user’s other expired keys', async () => {
    await adminQuery(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, created_at) VALUES ($1, 'abandoned', 'x', now() - interval '5 minutes')`,
      [alice.id],
    );
    expect((await post(alice.access, 'abandoned', { type: 'income', amount: 1, description: 'took over' })).status).toBe(201);
    await adminQuery(
      `INSERT INTO idempotency_keys (user_id, key, request_hash, status, response, expires_at)
       VALUES ($1, 'old-a', 'x', 201, '{}', now() - interval '1 second'), ($1, 'old-b', 'x', 201, '{}', now() - interval '1 second')`,
      [alice.id],
    );
    const res = await post(alice.access, 'old-a', { type: 'income', amount: 1, description: 'after expiry' });
    expect(res.status).toBe(201);
    expect(res.headers['Idempotent-Replayed']).toBeUndefined();
    const keys = await adminQuery<{ key: string }>(`SELECT key FROM idempotency_keys WHERE user_id = $1 AND key LIKE 'old-%'`, [alice.id]);
    expect(keys.map((k) => k.key)).toEqual(['old-a']);
  });

  it('releases the key when the request fails, so that a corrected retry runs', async () => {
    const bad = await post(alice.access, 'fails-first', { type: 'income', amount: 1, book: '00000000-0000-4000-8000-000000000000' });
    expect(bad.status).toBe(400);
    const [row] = await adminQuery(`SELECT 1 FROM idempotency_keys WHERE user_id = $1 AND key = 'fails-first'`, [alice.id]);
    expect(row).toBeUndefined();
  });

  it('works for books too', async () => {
    const first = await post(alice.access, 'book-key', { name: 'Once' }, createBook, '/api/books/');
    const again = await post(alice.access, 'book-key', { name: 'Once' }, createBook, '/api/books/');
    expect(first.status).toBe(201);
    expect(again.status).toBe(201);
    expect(again.raw).toBe(first.raw);
    const [count] = await adminQuery<{ n: string }>(`SELECT count(*) AS n FROM books WHERE name = 'Once'`);
    expect(count?.n).toBe('1');
  });

  it('answers 400 for a malformed key before touching the database', async () => {
    for (const key of ['', 'has space', 'x'.repeat(256), 'ünïcode']) {
      const res = await post(alice.access, key, { type: 'income', amount: 1 });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ detail: 'Idempotency-Key must be 1 to 255 printable ASCII characters without spaces.' });
    }
  });
});
