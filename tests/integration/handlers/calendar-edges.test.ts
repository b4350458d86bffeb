import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handler as create } from '../../../functions/create-transaction.js';
import { handler as exportCsv } from '../../../functions/export-transactions.js';
import { handler as list } from '../../../functions/list-transactions.js';
import { handler as summary } from '../../../functions/get-transaction-summary.js';
import { signUp } from '../../support/accounts.js';
import { expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// Dates are those of Python's date, 0001-01-01 to 9999-12-31, as in the old backend. Filters at
// the last month once answered 500: the month after 9999-12 was Date#toISOString()'s
// "+010000-01-01", which PostgreSQL refuses.

let token = '';

describe('dates at the edges of the calendar', () => {
  beforeAll(async () => {
    await resetData();
    ({ access: token } = await signUp('edges'));
    for (const [date, amount] of [['0001-01-01', '1.00'], ['9999-12-15', '2.00'], ['9999-12-31', '4.00']]) {
      const res = await invoke(create, { method: 'POST', path: '/api/transactions/', body: { type: 'income', amount, date, category: 'edge' }, token });
      expect(res.status).toBe(201);
    }
  });
  afterAll(() => expectNoAppConnections());

  it.each([
    [{ type: 'income', date_from: '9999-12-15' }, 2],
    [{ category: 'edge', date_to: '9999-12-31' }, 3],
    [{ type: 'income', date_from: '9999-12-31', date_to: '9999-12-31' }, 1],
    [{ type: 'income', date_from: '0001-01-01', date_to: '0001-01-31' }, 1],
  ])('lists with %j', async (query, count) => {
    const res = await invoke(list, { path: '/api/transactions/', query, token });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.count).toBe(count);
  });

  it.each([
    [{ date_to: '9999-12-31' }, '7.00', ['0001-01', '9999-12']],
    [{ date_from: '9999-12-15' }, '6.00', ['9999-12']],
    [{ date_from: '9999-12-16', date_to: '9999-12-31' }, '4.00', ['9999-12']],
  ])('sums up with %j', async (query, income, months) => {
    const res = await invoke(summary, { path: '/api/transactions/summary/', query, token });
    expect(res.status, res.raw).toBe(200);
    expect(res.body.total_income).toBe(income);
    expect(res.body.by_month.map((m: { month: string }) => m.month)).toEqual(months);
  });

  it('exports the last month', async () => {
    const res = await invoke(exportCsv, { path: '/api/transactions/export/', query: { type: 'income', date_from: '9999-12-01', date_to: '9999-12-31' }, token });
    expect(res.status, res.raw).toBe(200);
    expect(res.raw?.trim().split('\r\n')).toHaveLength(3);
  });

  it.each(['10000-01-01', '+010000-01-01', '0000-12-31'])('refuses %s with a 400 naming the filter', async (date) => {
    const res = await invoke(summary, { path: '/api/transactions/summary/', query: { date_to: date }, token });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({ date_to: ['Enter a valid date.'] });
  });
});
