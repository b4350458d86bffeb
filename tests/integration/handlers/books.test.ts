import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as deleteBook } from '../../../functions/delete-book.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as listBooks } from '../../../functions/list-books.js';
import { handler as replaceBook } from '../../../functions/replace-book.js';
import { handler as updateBook } from '../../../functions/update-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as getTx } from '../../../functions/get-transaction.js';
import { handler as replaceTx } from '../../../functions/replace-transaction.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

type User = Awaited<ReturnType<typeof signUp>>;
let alice: User;
let mallory: User;

const byId = (path: string, id: string, token: string, extra: object = {}) => ({
  path: `${path}${id}/`,
  pathParameters: { id },
  token,
  ...extra,
});

async function newBook(token: string, body: object) {
  const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function newTx(token: string, body: object) {
  const res = await invoke(createTx, { method: 'POST', path: '/api/transactions/', token, body });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

async function books(token: string) {
  return (await invoke(listBooks, { path: '/api/books/', token })).body;
}

describe('books', () => {
  beforeAll(async () => {
    await resetData();
    alice = await signUp('alice');
    mallory = await signUp('mallory');
  });
  afterAll(() => expectNoAppConnections());

  it('gives every new user a default book, created with the account', async () => {
    const list = await books(alice.access);
    expect(list).toMatchObject({ count: 1, next: null, previous: null });
    expect(list.results[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Cashbook',
      currency: 'INR',
      is_default: true,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      balance: '0.00',
      role: 'owner',
    });
  });

  it('creates, retrieves, renames and re-currencies a book; currency defaults to DEFAULT_CURRENCY', async () => {
    const book = await newBook(alice.access, { name: 'Travel', currency: 'eur' });
    expect(book).toMatchObject({ name: 'Travel', currency: 'EUR', is_default: false, balance: '0.00' });
    expect((await newBook(alice.access, { name: 'Shop' })).currency).toBe('INR');
    expect((await invoke(getBook, byId('/api/books/', book.id, alice.access))).body).toEqual(book);

    const put = await invoke(replaceBook, byId('/api/books/', book.id, alice.access, { method: 'PUT', body: { name: 'Trips', currency: 'USD' } }));
    expect(put.body).toMatchObject({ id: book.id, name: 'Trips', currency: 'USD' });
    const patch = await invoke(updateBook, byId('/api/books/', book.id, alice.access, { method: 'PATCH', body: { name: ' Holidays ' } }));
    expect(patch.body).toMatchObject({ name: 'Holidays', currency: 'USD', created_at: book.created_at });
  });

  it('validates name and currency DRF-style', async () => {
    const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: alice.access, body: { name: ' ', currency: 'XYZ' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ name: ['This field may not be blank.'], currency: ['"XYZ" is not a valid ISO 4217 currency code.'] });
    const missing = await invoke(replaceBook, byId('/api/books/', (await books(alice.access)).results[0].id, alice.access, { method: 'PUT', body: {} }));
    expect(missing.body).toEqual({ name: ['This field is required.'], currency: ['This field is required.'] });
  });

  it("shows each book's balance (income minus expense)", async () => {
    const book = await newBook(alice.access, { name: 'Balance' });
    await newTx(alice.access, { type: 'income', amount: '100.10', book: book.id });
    await newTx(alice.access, { type: 'expense', amount: '30.05', book: book.id });
    await newTx(alice.access, { type: 'expense', amount: '90.00', book: book.id });
    expect((await invoke(getBook, byId('/api/books/', book.id, alice.access))).body.balance).toBe('-19.95');
  });

  it('puts a transaction without `book` (an old client) in the default book', async () => {
    const [main] = (await books(alice.access)).results;
    const tx = await newTx(alice.access, { type: 'income', amount: '1.00' });
    expect(tx.book).toBe(main.id);
  });

  it("answers 404 for another user's book on every verb, and changes nothing", async () => {
    const book = await newBook(alice.access, { name: 'Private' });
    const token = mallory.access;
    expect((await invoke(getBook, byId('/api/books/', book.id, token))).body).toEqual({ detail: 'Not found.' });
    expect((await invoke(updateBook, byId('/api/books/', book.id, token, { method: 'PATCH', body: { name: 'x' } }))).status).toBe(404);
    expect((await invoke(updateBook, byId('/api/books/', book.id, token, { method: 'PATCH', body: {} }))).status).toBe(404);
    expect((await invoke(replaceBook, byId('/api/books/', book.id, token, { method: 'PUT', body: { name: 'x', currency: 'USD' } }))).status).toBe(404);
    expect((await invoke(deleteBook, byId('/api/books/', book.id, token, { method: 'DELETE', query: { force: 'true' } }))).status).toBe(404);
    expect((await invoke(getBook, byId('/api/books/', 'nope', token))).status).toBe(404);
    const [row] = await adminQuery<{ name: string }>('SELECT name FROM books WHERE id = $1', [book.id]);
    expect(row?.name).toBe('Private');
    expect((await books(token)).count).toBe(1);
  });

  it("refuses a transaction in another user's book, created or moved there, without saying it exists", async () => {
    const theirs = (await books(mallory.access)).results[0].id;
    const missing = '00000000-0000-4000-8000-000000000000';
    for (const book of [theirs, missing]) {
      const created = await invoke(createTx, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { type: 'income', amount: 1, book } });
      expect(created.status).toBe(400);
      expect(created.body).toEqual({ book: [`Invalid pk "${book}" - object does not exist.`] });
    }
    const tx = await newTx(alice.access, { type: 'expense', amount: '2.00' });
    const moved = await invoke(updateTx, byId('/api/transactions/', tx.id, alice.access, { method: 'PATCH', body: { book: theirs } }));
    expect(moved.status).toBe(400);
    expect(moved.body).toEqual({ book: [`Invalid pk "${theirs}" - object does not exist.`] });
    const replaced = await invoke(replaceTx, byId('/api/transactions/', tx.id, alice.access, { method: 'PUT', body: { ...tx, book: theirs } }));
    expect(replaced.status).toBe(400);
    expect((await invoke(getTx, byId('/api/transactions/', tx.id, alice.access))).body.book).toBe(tx.book);
    const [count] = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM transactions WHERE book_id = $1', [theirs]);
    expect(count?.n).toBe('0');
  });

  it('moves a transaction between its own books with PATCH, and keeps the book on a PUT without it', async () => {
    const other = await newBook(alice.access, { name: 'Other' });
    const tx = await newTx(alice.access, { type: 'expense', amount: '3.00' });
    const moved = await invoke(updateTx, byId('/api/transactions/', tx.id, alice.access, { method: 'PATCH', body: { book: other.id } }));
    expect(moved.body.book).toBe(other.id);
    const { book: _book, ...oldClient } = tx;
    const put = await invoke(replaceTx, byId('/api/transactions/', tx.id, alice.access, { method: 'PUT', body: { ...oldClient, amount: '4.00' } }));
    expect(put.body).toMatchObject({ book: other.id, amount: '4.00' });
  });

  it('refuses to delete a book with transactions (409) unless ?force=true, and deletes an empty one', async () => {
    const book = await newBook(alice.access, { name: 'Doomed' });
    await newTx(alice.access, { type: 'income', amount: '5.00', book: book.id });
    const refused = await invoke(deleteBook, byId('/api/books/', book.id, alice.access, { method: 'DELETE' }));
    expect(refused.status).toBe(409);
    expect(refused.body).toEqual({ detail: 'This book still has transactions. Move or delete them first, or delete with ?force=true.' });
    const forced = await invoke(deleteBook, byId('/api/books/', book.id, alice.access, { method: 'DELETE', query: { force: 'true' } }));
    expect(forced.status).toBe(204);
    const [left] = await adminQuery<{ n: string }>('SELECT count(*) AS n FROM transactions WHERE book_id = $1', [book.id]);
    expect(left?.n).toBe('0');

    const empty = await newBook(alice.access, { name: 'Empty' });
    expect((await invoke(deleteBook, byId('/api/books/', empty.id, alice.access, { method: 'DELETE' }))).status).toBe(204);
    expect((await invoke(getBook, byId('/api/books/', empty.id, alice.access))).status).toBe(404);
  });

  it('never deletes the default book, even with ?force=true', async () => {
    const main = (await books(alice.access)).results.find((b: { is_default: boolean }) => b.is_default);
    const res = await invoke(deleteBook, byId('/api/books/', main.id, alice.access, { method: 'DELETE', query: { force: 'true' } }));
    expect(res.status).toBe(409);
    expect(res.body).toEqual({ detail: 'The default book cannot be deleted.' });
  });

  it('answers a bad ?force value with 400 naming it', async () => {
    const main = (await books(alice.access)).results[0];
    const res = await invoke(deleteBook, byId('/api/books/', main.id, alice.access, { method: 'DELETE', query: { force: 'yes please' } }));
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ force: ['Must be "true" or "false".'] });
  });

  it('paginates the book list, oldest first', async () => {
    const bob = await signUp('bob');
    await newBook(bob.access, { name: 'B2' });
    await newBook(bob.access, { name: 'B3' });
    const page = await invoke(listBooks, { path: '/api/books/', token: bob.access, query: { page_size: '2', page: '2' } });
    expect(page.body).toMatchObject({ count: 3, next: null });
    expect(page.body.results.map((b: { name: string }) => b.name)).toEqual(['B3']);
    const past = await invoke(listBooks, { path: '/api/books/', token: bob.access, query: { page: '5' } });
    expect(past.status).toBe(404);
  });
});
