import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTx } from '../../../functions/create-transaction.js';
import { handler as deleteBook } from '../../../functions/delete-book.js';
import { handler as deleteTx } from '../../../functions/delete-transaction.js';
import { handler as exportTx } from '../../../functions/export-transactions.js';
import { handler as getBook } from '../../../functions/get-book.js';
import { handler as getMe } from '../../../functions/get-me.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as getTx } from '../../../functions/get-transaction.js';
import { handler as listBooks } from '../../../functions/list-books.js';
import { handler as listTx } from '../../../functions/list-transactions.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as refreshToken } from '../../../functions/refresh-token.js';
import { handler as replaceBook } from '../../../functions/replace-book.js';
import { handler as replaceTx } from '../../../functions/replace-transaction.js';
import { handler as updateBook } from '../../../functions/update-book.js';
import { handler as updateTx } from '../../../functions/update-transaction.js';
import { handler as verifyToken } from '../../../functions/verify-token.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke, type EventInput } from '../../support/events.js';

// A deactivated (is_active = false) or deleted user keeps valid tokens, and so does a user who
// logged out everywhere; every data request is refused anyway (SimpleJWT's JWTAuthentication
// messages), inside the statement the request already runs, and refresh reads the account.

const INACTIVE = { detail: 'User is inactive', code: 'user_inactive' };
const NOT_FOUND = { detail: 'User not found', code: 'user_not_found' };
const NO_ACCOUNT = { detail: 'No active account found for the given token.', code: 'no_active_account' };
const MISSING = '00000000-0000-4000-8000-000000000000';

let user: Awaited<ReturnType<typeof signUp>>;
let txId = '';
let bookId = '';

const tx = { type: 'expense', amount: '12.50', category: 'Food' };
const endpoints: Array<[string, unknown, () => EventInput]> = [
  ['GET /api/me/', getMe, () => ({ path: '/api/me/' })],
  ['GET /api/transactions/', listTx, () => ({ path: '/api/transactions/' })],
  ['GET /api/transactions/?book=', listTx, () => ({ path: '/api/transactions/', query: { book: bookId } })],
  ['GET /api/transactions/summary/', summary, () => ({ path: '/api/transactions/summary/' })],
  ['GET /api/transactions/export/', exportTx, () => ({ path: '/api/transactions/export/' })],
  ['POST /api/transactions/', createTx, () => ({ method: 'POST', path: '/api/transactions/', body: tx })],
  ['POST /api/transactions/ with Idempotency-Key', createTx, () => ({ method: 'POST', path: '/api/transactions/', body: tx, headers: { 'idempotency-key': 'k1' } })],
  ['GET /api/transactions/{id}/', getTx, () => ({ path: `/api/transactions/${txId}/`, pathParameters: { id: txId } })],
  ['GET /api/transactions/{missing}/', getTx, () => ({ path: `/api/transactions/${MISSING}/`, pathParameters: { id: MISSING } })],
  ['PUT /api/transactions/{id}/', replaceTx, () => ({ method: 'PUT', path: `/api/transactions/${txId}/`, pathParameters: { id: txId }, body: { ...tx, description: '', date: '2026-01-01', payment_mode: 'cash' } })],
  ['PATCH /api/transactions/{id}/', updateTx, () => ({ method: 'PATCH', path: `/api/transactions/${txId}/`, pathParameters: { id: txId }, body: { amount: '1.00' } })],
  ['PATCH /api/transactions/{missing}/', updateTx, () => ({ method: 'PATCH', path: `/api/transactions/${MISSING}/`, pathParameters: { id: MISSING }, body: { amount: '1.00' } })],
  ['DELETE /api/transactions/{id}/', deleteTx, () => ({ method: 'DELETE', path: `/api/transactions/${txId}/`, pathParameters: { id: txId } })],
  ['DELETE /api/transactions/{missing}/', deleteTx, () => ({ method: 'DELETE', path: `/api/transactions/${MISSING}/`, pathParameters: { id: MISSING } })],
  ['GET /api/books/', listBooks, () => ({ path: '/api/books/' })],
  ['POST /api/books/', createBook, () => ({ method: 'POST', path: '/api/books/', body: { name: 'Travel' } })],
  ['POST /api/books/ with Idempotency-Key', createBook, () => ({ method: 'POST', path: '/api/books/', body: { name: 'Travel' }, headers: { 'idempotency-key': 'k2' } })],
  ['GET /api/books/{id}/', getBook, () => ({ path: `/api/books/${bookId}/`, pathParameters: { id: bookId } })],
  ['PUT /api/books/{id}/', replaceBook, () => ({ method: 'PUT', path: `/api/books/${bookId}/`, pathParameters: { id: bookId }, body: { name: 'X', currency: 'EUR' } })],
  ['PATCH /api/books/{id}/', updateBook, () => ({ method: 'PATCH', path: `/api/books/${bookId}/`, pathParameters: { id: bookId }, body: { name: 'X' } })],
  ['PATCH /api/books/{id}/ (empty)', updateBook, () => ({ method: 'PATCH', path: `/api/books/${bookId}/`, pathParameters: { id: bookId }, body: {} })],
  ['DELETE /api/books/{id}/?force=true', deleteBook, () => ({ method: 'DELETE', path: `/api/books/${bookId}/`, pathParameters: { id: bookId }, query: { force: 'true' } })],
  ['DELETE /api/books/{missing}/', deleteBook, () => ({ method: 'DELETE', path: `/api/books/${MISSING}/`, pathParameters: { id: MISSING } })],
];

async function snapshot() {
  return adminQuery(
    `SELECT (SELECT json_agg(t ORDER BY t.id) FROM transactions t) AS transactions,
            (SELECT json_agg(b ORDER BY b.id) FROM books b) AS books,
            (SELECT count(*) FROM idempotency_keys) AS keys`,
  );
}

describe('revoked accounts', () => {
  beforeEach(async () => {
    await resetData();
    user = await signUp('revoked');
    txId = (await invoke(createTx, { method: 'POST', path: '/api/transactions/', body: tx, token: user.access })).body.id;
    bookId = (await invoke(createBook, { method: 'POST', path: '/api/books/', body: { name: 'Second' }, token: user.access })).body.id;
  });
  afterAll(() => expectNoAppConnections());

  it.each(endpoints)('%s works for the active user (the check lets it through)', async (_name, handler, input) => {
    const res = await invoke(handler, { ...input(), token: user.access });
    expect(res.status).toBeLessThan(500);
    expect(res.status).not.toBe(401);
  });

  it.each(endpoints)('%s: a deactivated user gets 401 user_inactive, nothing is written', async (_name, handler, input) => {
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
    const before = await snapshot();
    const res = await invoke(handler, { ...input(), token: user.access });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(INACTIVE);
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="api"');
    expect(await snapshot()).toEqual(before);
  });

  it.each(endpoints)('%s: a deleted user gets 401 user_not_found, nothing is written', async (_name, handler, input) => {
    // Another user's data must stay as it is, too.
    const other = await signUp('bystander');
    await invoke(createTx, { method: 'POST', path: '/api/transactions/', body: tx, token: other.access });
    await adminQuery('DELETE FROM users WHERE id = $1', [user.id]);
    const before = await snapshot();
    const res = await invoke(handler, { ...input(), token: user.access });
    expect(res.status).toBe(401);
    expect(res.body).toEqual(NOT_FOUND);
    expect(await snapshot()).toEqual(before);
  });

  it.each(endpoints)('%s: an access token issued before tokens_valid_after gets 401 token_not_valid, nothing is written', async (_name, handler, input) => {
    // As "log out everywhere" or a password change would (tests/integration/handlers/sessions.test.ts).
    await adminQuery("UPDATE users SET tokens_valid_after = date_trunc('second', now()) + interval '1 second' WHERE id = $1", [user.id]);
    const before = await snapshot();
    const res = await invoke(handler, { ...input(), token: user.access });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
    expect(res.headers['WWW-Authenticate']).toBe('Bearer realm="api"');
    expect(await snapshot()).toEqual(before);
  });

  it.each(endpoints)('%s: an access token issued at or after tokens_valid_after works', async (_name, handler, input) => {
    await adminQuery("UPDATE users SET tokens_valid_after = now() - interval '5 seconds' WHERE id = $1", [user.id]);
    const res = await invoke(handler, { ...input(), token: user.access });
    expect(res.status).toBeLessThan(500);
    expect(res.status).not.toBe(401);
  });

  describe('tokens', () => {
    const refresh = (token: string) => invoke(refreshToken, { method: 'POST', path: '/api/token/refresh/', body: { refresh: token } });

    it('refresh answers 401 no_active_account for a deactivated and for a deleted user', async () => {
      expect((await refresh(user.refresh)).status).toBe(200);
      await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      const inactive = await refresh(user.refresh);
      expect(inactive.status).toBe(401);
      expect(inactive.body).toEqual(NO_ACCOUNT);
      await adminQuery('DELETE FROM users WHERE id = $1', [user.id]);
      const deleted = await refresh(user.refresh);
      expect(deleted.status).toBe(401);
      expect(deleted.body).toEqual(NO_ACCOUNT);
      await expectNoAppConnections();
    });

    it('refresh refuses tokens issued before tokens_valid_after ("log out everywhere"), and accepts newer ones', async () => {
      await adminQuery('UPDATE users SET tokens_valid_after = now() WHERE id = $1', [user.id]);
      const old = await refresh(user.refresh);
      expect(old.status).toBe(401);
      expect(old.body).toEqual({ detail: 'Token is blacklisted', code: 'token_not_valid' });
      await adminQuery("UPDATE users SET tokens_valid_after = now() - interval '5 seconds' WHERE id = $1", [user.id]);
      expect((await refresh(user.refresh)).status).toBe(200);
    });

    it('login refuses the deactivated user like a wrong password; verify stays a signature check, as SimpleJWT’s', async () => {
      await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      const res = await invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username: user.username, password: 'correct-horse-battery' } });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ detail: 'No active account found with the given credentials' });
      expect((await invoke(verifyToken, { method: 'POST', path: '/api/token/verify/', body: { token: user.access } })).status).toBe(200);
    });

    it('a reactivated user is let in again', async () => {
      await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [user.id]);
      expect((await invoke(getMe, { path: '/api/me/', token: user.access })).status).toBe(401);
      await adminQuery('UPDATE users SET is_active = true WHERE id = $1', [user.id]);
      expect((await invoke(getMe, { path: '/api/me/', token: user.access })).status).toBe(200);
    });
  });
});

describe('refresh with JWT_ROTATE_REFRESH_TOKENS=true', () => {
  afterEach(() => {
    delete process.env.JWT_ROTATE_REFRESH_TOKENS;
    vi.resetModules();
  });

  it('rotates for an active user and stops the chain once the user is deactivated', async () => {
    await resetData();
    const active = await signUp('rotating');
    process.env.JWT_ROTATE_REFRESH_TOKENS = 'true';
    vi.resetModules();
    const { handler } = await import('../../../functions/refresh-token.js');
    const first = await invoke(handler, { method: 'POST', path: '/api/token/refresh/', body: { refresh: active.refresh } });
    expect(first.status).toBe(200);
    expect(first.body.refresh).toBeDefined();
    await adminQuery('UPDATE users SET is_active = false WHERE id = $1', [active.id]);
    const second = await invoke(handler, { method: 'POST', path: '/api/token/refresh/', body: { refresh: first.body.refresh } });
    expect(second.status).toBe(401);
    expect(second.body).toEqual(NO_ACCOUNT);
  });
});
