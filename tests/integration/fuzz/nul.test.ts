import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
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
});
