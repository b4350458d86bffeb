import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createBook } from '../../../functions/create-book.js';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
import { handler as exportTransactions } from '../../../functions/export-transactions.js';
import { handler as listTransactions } from '../../../functions/list-transactions.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { handler as obtainToken } from '../../../functions/obtain-token.js';
import { handler as register } from '../../../functions/register.js';
import { signUp } from '../../support/accounts.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// PostgreSQL text cannot hold U+0000: such input must be a 4xx before it reaches SQL.

let access = '';

describe('NUL characters', () => {
  beforeAll(async () => {
    await resetData();
    ({ access } = await signUp('nul'));
  });
  afterAll(() => expectNoAppConnections());

  it('refuses them in transaction text fields', async () => {
    const res = await invoke(createTransaction, { method: 'POST', path: '/api/transactions/', token: access, body: { type: 'income', amount: '1.00', category: 'a\u0000b' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ category: ['Null characters are not allowed.'] });
  });

  it('refuses them in login fields, as DRF does', async () => {
    const res = await invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username: 'x\u0000', password: 'whatever-123' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ username: ['Null characters are not allowed.'] });
  });

  it('refuses them in registration', async () => {
    const res = await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'ok_name', password: 'pass\u0000word-123', email: '' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ password: ['Null characters are not allowed.'] });
  });

  it('refuses them in book names', async () => {
    const res = await invoke(createBook, { method: 'POST', path: '/api/books/', token: access, body: { name: 'Sh\u0000op' } });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ name: ['Null characters are not allowed.'] });
  });

  it.each([
    ['list', listTransactions, '/api/transactions/'],
    ['summary', summary, '/api/transactions/summary/'],
    ['export', exportTransactions, '/api/transactions/export/'],
  ])('refuses them in the %s filters', async (_name, handler, path) => {
    for (const key of ['search', 'category']) {
      const res = await invoke(handler, { path, token: access, query: { [key]: 'a\u0000b' } });
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ [key]: ['Null characters are not allowed.'] });
    }
  });
});
