import { describe, expect, it } from 'vitest';
import { toCsv } from '../../../lib/transactions/export.js';
import type { ListedTransaction } from '../../../lib/transactions/list.js';

const row: ListedTransaction = {
  id: '0b7a4c52-8f1e-4c39-9d1a-2f6e8b3c5d71',
  book: '5f0c6a1e-3b2d-4e8f-a9c7-1d2e3f4a5b6c',
  book_name: '=Household',
  type: 'expense',
  amount: '12.50',
  balance_after: '-12.50',
  category: 'Food, drink',
  description: '+1 lunch',
  date: '2026-01-15',
  payment_mode: 'card',
  created_at: '2026-01-15T12:00:00.000Z',
  updated_at: '2026-01-15T12:00:00.000Z',
  transfer: null,
  created_by: { id: 1, username: 'asha' },
  updated_by: null,
};

describe('toCsv', () => {
  it('writes the header row, then one row per transaction in the same column order', () => {
    expect(toCsv([row])).toBe(
      'id,date,book,type,amount,balance_after,category,description,payment_mode,created_at,updated_at,transfer,created_by,updated_by\r\n' +
        `${row.id},2026-01-15,'=Household,expense,12.50,-12.50,"Food, drink",'+1 lunch,card,2026-01-15T12:00:00.000Z,2026-01-15T12:00:00.000Z,,asha,\r\n`,
    );
  });

  it('names the transfer of a transfer entry, and who recorded and last changed it, in the last columns', () => {
    const transfer = '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';
    const [, line] = toCsv([{ ...row, transfer, updated_by: { id: 2, username: '=ravi' } }]).split('\r\n');
    expect(line).toMatch(new RegExp(`,${transfer},asha,'=ravi$`));
  });

  it('neutralises user text (book name, category, description) but not amounts', () => {
    const [, line] = toCsv([{ ...row, book_name: 'Home', category: '-x', description: '@y' }]).split('\r\n');
    expect(line).toContain(",Home,expense,12.50,-12.50,'-x,'@y,card,");
  });
});
