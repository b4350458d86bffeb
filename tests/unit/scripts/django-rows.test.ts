import { describe, expect, it } from 'vitest';
import { quoteTable, transactionProblem, userProblem, type DjangoTransaction } from '../../../scripts/lib/django-rows.js';

const tx = (over: Partial<DjangoTransaction> = {}): DjangoTransaction => ({
  id: '5f0c6a4e-0000-4000-8000-000000000001',
  user_id: '1',
  type: 'expense',
  amount: '12.50',
  category: '',
  description: '',
  date: '2024-01-01',
  payment_mode: 'cash',
  created_at: '2024-01-01 00:00:00+00',
  updated_at: '2024-01-01 00:00:00+00',
  ...over,
});

const user = (password: string) => ({ id: 1, username: 'u', email: '', password, date_joined: '', is_active: true });

describe('old rows the import refuses', () => {
  it('accepts a row as Django stored it', () => {
    expect(transactionProblem(tx())).toBeUndefined();
    expect(transactionProblem(tx({ amount: '999999999999.99', type: 'income', payment_mode: 'upi' }))).toBeUndefined();
    expect(transactionProblem(tx({ amount: '0.01' }))).toBeUndefined();
  });

  it.each([
    [{ type: 'transfer' }, 'unknown type "transfer"'],
    [{ payment_mode: 'paypal' }, 'unknown payment_mode "paypal"'],
    [{ amount: '0.00' }, 'amount 0.00 is not positive'],
    [{ amount: '-5.00' }, 'amount -5.00 is not positive'],
    [{ amount: '1.005' }, 'amount 1.005 has more than 2 decimals or 12 digits'],
    [{ amount: '1000000000000.00' }, 'amount 1000000000000.00 has more than 2 decimals or 12 digits'],
    [{ category: 'x'.repeat(101) }, 'category longer than 100 characters'],
  ])('refuses %j: %s', (over, reason) => {
    expect(transactionProblem(tx(over))).toBe(reason);
  });

  it('accepts trailing zeros past two decimals (a numeric column without scale)', () => {
    expect(transactionProblem(tx({ amount: '1.5000' }))).toBeUndefined();
  });

  it('accepts Django pbkdf2_sha256 and unusable passwords, names other formats without printing the hash', () => {
    expect(userProblem(user('pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg='))).toBeUndefined();
    expect(userProblem(user('!Ab3dEfGhIjKlMnOpQrStUvWxYz0123456789ABCD'))).toBeUndefined();
    expect(userProblem(user('bcrypt_sha256$$2b$12$secretsecret'))).toBe('unsupported password hash format (bcrypt_sha256)');
    expect(userProblem(user('md5$salt$hash'))).toBe('unsupported password hash format (md5)');
    expect(userProblem(user('plain-text-password'))).toBe('unsupported password hash format (unrecognised)');
    expect(userProblem(user(''))).toBe('unsupported password hash format (unrecognised)');
  });

  it('quotes a --transactions-table name, schema-qualified or not', () => {
    expect(quoteTable('transactions_transaction')).toBe('"transactions_transaction"');
    expect(quoteTable('legacy.Tx"s')).toBe('"legacy"."Tx""s"');
    expect(() => quoteTable('a.b.c')).toThrow();
    expect(() => quoteTable('')).toThrow();
  });
});
