import { describe, expect, it } from 'vitest';
import { createTransferBody, listTransfersQuery, patchTransferBody } from '../../../lib/transfers/schema.js';
import { parse } from '../../../lib/validation.js';
import { ValidationError } from '../../../lib/errors.js';

const CASH = '5f0c6a1e-3b2d-4e8f-a9c7-1d2e3f4a5b6c';
const BANK = '7d1e2f3a-4b5c-4d6e-8f70-8192a3b4c5d6';

const fieldsOf = (schema: Parameters<typeof parse>[0], input: unknown) => {
  try {
    parse(schema, input);
  } catch (err) {
    if (err instanceof ValidationError) return err.fields;
    throw err;
  }
  return {};
};

describe('createTransferBody', () => {
  it('fills the defaults: category "transfer", payment mode cash, no description, no to_amount', () => {
    expect(createTransferBody.parse({ from_book: CASH, to_book: BANK.toUpperCase(), amount: 500 })).toEqual({
      from_book: CASH, to_book: BANK, amount: '500.00', description: '', category: 'transfer', payment_mode: 'cash',
    });
  });

  it('refuses the same book twice on to_book, and names each missing field', () => {
    expect(fieldsOf(createTransferBody, { from_book: CASH, to_book: CASH, amount: '1' })).toEqual({
      to_book: ['A transfer needs two different books: to_book is from_book.'],
    });
    expect(Object.keys(fieldsOf(createTransferBody, {})).sort()).toEqual(['amount', 'from_book', 'to_book']);
  });

  it('ignores read-only fields a client echoes back, and refuses unknown ones', () => {
    const echoed = { id: 'x', from_entry: {}, to_entry: {}, from_book: CASH, to_book: BANK, amount: '1' };
    expect(createTransferBody.parse(echoed)).not.toHaveProperty('from_entry');
    expect(fieldsOf(createTransferBody, { from_book: CASH, to_book: BANK, amount: '1', type: 'income' })).toEqual({ type: ['Unknown field.'] });
  });
});

describe('patchTransferBody', () => {
  it('takes any subset of the transfer\'s own fields, and never a book', () => {
    expect(patchTransferBody.parse({ amount: '2.5', date: '2026-01-02' })).toEqual({ amount: '2.50', date: '2026-01-02' });
    expect(Object.keys(fieldsOf(patchTransferBody, { from_book: CASH }))).toEqual(['from_book']);
    expect(Object.keys(fieldsOf(patchTransferBody, { to_book: BANK }))).toEqual(['to_book']);
  });
});

describe('listTransfersQuery', () => {
  it('skips filters given an empty value, and pages like the other lists', () => {
    expect(listTransfersQuery.parse({ book: '', date_after: '' })).toEqual({ page: 1, page_size: 50 });
    expect(Object.keys(fieldsOf(listTransfersQuery, { date_before: '2026-02-30' }))).toEqual(['date_before']);
  });
});
