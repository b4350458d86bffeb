import { describe, expect, it } from 'vitest';
import { createTransactionBody, DEFAULT_ORDERING, transactionFiltersQuery, listTransactionsQuery, patchTransactionBody, replaceTransactionBody } from '../../../lib/transactions/schema.js';
import { fieldErrors } from '../../../lib/validation.js';
import type { z } from 'zod';

const REQUIRED = ['This field is required.'];

function errors(schema: z.ZodType, input: unknown) {
  const result = schema.safeParse(input);
  expect(result.success, 'expected the input to be rejected').toBe(false);
  return fieldErrors(result.error!);
}

const full = {
  type: 'expense',
  amount: '12.5',
  category: 'Food',
  description: 'Lunch',
  date: '2026-01-15',
  payment_mode: 'card',
};

describe('createTransactionBody', () => {
  it('needs only type and amount, defaulting the rest as the old model did', () => {
    expect(createTransactionBody.parse({ type: 'income', amount: '150' })).toEqual({
      type: 'income',
      amount: '150.00',
      category: '',
      description: '',
      payment_mode: 'cash',
    });
  });

  it('leaves date undefined so the database default applies', () => {
    expect(createTransactionBody.parse({ type: 'income', amount: 1 }).date).toBeUndefined();
  });

  it('keeps every writable field that is given', () => {
    expect(createTransactionBody.parse(full)).toEqual({ ...full, amount: '12.50' });
  });

  it('requires type and amount', () => {
    expect(errors(createTransactionBody, {})).toEqual({ type: REQUIRED, amount: REQUIRED });
  });

  it('ignores the read-only fields id, created_at, updated_at and user', () => {
    const echoed = {
      ...full,
      id: '5f1c1a0e-0000-4000-8000-000000000000',
      created_at: '2026-01-01T00:00:00Z',
      updated_at: '2026-01-01T00:00:00Z',
      user: 'someone-else',
    };
    expect(createTransactionBody.parse(echoed)).toEqual({ ...full, amount: '12.50' });
  });

  it('reports an unknown key', () => {
    expect(errors(createTransactionBody, { type: 'income', amount: 1, colour: 'red' })).toEqual({ colour: ['Unknown field.'] });
  });

  it('quotes an invalid type or payment_mode', () => {
    expect(errors(createTransactionBody, { type: 'gift', amount: 1, payment_mode: 'gold' })).toEqual({
      type: ['"gift" is not a valid choice.'],
      payment_mode: ['"gold" is not a valid choice.'],
    });
  });

  it('limits category to 100 characters', () => {
    expect(createTransactionBody.parse({ type: 'income', amount: 1, category: 'c'.repeat(100) }).category).toHaveLength(100);
    expect(errors(createTransactionBody, { type: 'income', amount: 1, category: 'c'.repeat(101) })).toEqual({
      category: ['Ensure this field has no more than 100 characters.'],
    });
  });

  it('limits description to 1000 characters', () => {
    expect(errors(createTransactionBody, { type: 'income', amount: 1, description: 'd'.repeat(1001) })).toEqual({
      description: ['Ensure this field has no more than 1000 characters.'],
    });
  });

  it('rejects an impossible date', () => {
    expect(errors(createTransactionBody, { type: 'income', amount: 1, date: '2026-02-30' })).toEqual({
      date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
    });
  });

  it('reports an invalid amount on the amount field', () => {
    expect(errors(createTransactionBody, { type: 'income', amount: '-3' })).toEqual({
      amount: ['Ensure this value is greater than or equal to 0.01.'],
    });
  });

  it('rejects a null category rather than defaulting it', () => {
    expect(errors(createTransactionBody, { type: 'income', amount: 1, category: null })).toEqual({
      category: ['This field may not be null.'],
    });
  });

  it('rejects a body that is a list', () => {
    expect(errors(createTransactionBody, [full])).toEqual({
      non_field_errors: ['Invalid data. Expected a dictionary, but got list.'],
    });
  });
});

describe('replaceTransactionBody', () => {
  it('accepts every writable field', () => {
    expect(replaceTransactionBody.parse(full)).toEqual({ ...full, amount: '12.50' });
  });

  it('requires every writable field', () => {
    expect(errors(replaceTransactionBody, { type: 'income', amount: 1 })).toEqual({
      category: REQUIRED,
      description: REQUIRED,
      date: REQUIRED,
      payment_mode: REQUIRED,
    });
  });

  it('ignores read-only fields', () => {
    expect(replaceTransactionBody.parse({ ...full, id: 'x', user: 'y' })).toEqual({ ...full, amount: '12.50' });
  });
});

describe('patchTransactionBody', () => {
  it('accepts an empty object', () => {
    expect(patchTransactionBody.parse({})).toEqual({});
  });

  it('accepts any subset without filling defaults', () => {
    expect(patchTransactionBody.parse({ amount: 9, category: 'Rent' })).toEqual({ amount: '9.00', category: 'Rent' });
  });

  it('still validates the fields it is given', () => {
    expect(errors(patchTransactionBody, { payment_mode: 'barter', date: 'yesterday' })).toEqual({
      payment_mode: ['"barter" is not a valid choice.'],
      date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'],
    });
  });

  it('ignores read-only fields and reports unknown ones', () => {
    expect(patchTransactionBody.parse({ created_at: 'x' })).toEqual({});
    expect(errors(patchTransactionBody, { owner: 'x' })).toEqual({ owner: ['Unknown field.'] });
  });
});

describe('listTransactionsQuery', () => {
  it('defaults to page 1 of 50', () => {
    expect(listTransactionsQuery.parse({})).toEqual({ page: 1, page_size: 50, ordering: DEFAULT_ORDERING });
  });

  it('parses page and page_size as numbers', () => {
    expect(listTransactionsQuery.parse({ page: '3', page_size: '20' })).toEqual({ page: 3, page_size: 20, ordering: DEFAULT_ORDERING });
  });

  it('accepts a page_size of 500 and rejects 501', () => {
    expect(listTransactionsQuery.parse({ page_size: '500' }).page_size).toBe(500);
    expect(errors(listTransactionsQuery, { page_size: '501' })).toEqual({ page_size: ['page_size must be at most 500.'] });
  });

  it.each(['abc', '0', '-1', '1.5', '', '1e3'])('rejects page=%j', (page) => {
    expect(errors(listTransactionsQuery, { page })).toEqual({ page: ['page must be a positive integer.'] });
  });

  it.each(['abc', '0'])('rejects page_size=%j', (pageSize) => {
    expect(errors(listTransactionsQuery, { page_size: pageSize })).toEqual({ page_size: ['page_size must be a positive integer.'] });
  });

  it('passes other query parameters through for the filters', () => {
    expect(listTransactionsQuery.parse({ type: 'income', category: 'Food', colour: 'red' })).toEqual({
      type: 'income',
      category: 'Food',
      colour: 'red',
      ordering: DEFAULT_ORDERING,
      page: 1,
      page_size: 50,
    });
  });
});

describe('transactionFiltersQuery', () => {
  it('parses every filter, normalising amounts and the book id', () => {
    const book = '5F1C1A0E-0000-4000-8000-000000000000';
    expect(
      transactionFiltersQuery.parse({
        book,
        type: 'expense',
        category: 'Food',
        payment_mode: 'upi',
        date_from: '2026-01-01',
        date_to: '2026-01-31',
        min_amount: '5',
        max_amount: '10.5',
        search: 'lunch',
        ordering: '-amount,date',
      }),
    ).toEqual({
      book: book.toLowerCase(),
      type: 'expense',
      category: 'Food',
      payment_mode: 'upi',
      date_from: '2026-01-01',
      date_to: '2026-01-31',
      min_amount: '5.00',
      max_amount: '10.50',
      search: 'lunch',
      ordering: [
        { field: 'amount', descending: true },
        { field: 'date', descending: false },
      ],
    });
  });

  it('takes 0 as an amount bound (min_amount=0 is every transaction)', () => {
    expect(transactionFiltersQuery.parse({ min_amount: '0', max_amount: '0.00' })).toMatchObject({ min_amount: '0.00', max_amount: '0.00' });
  });

  it('skips filters given an empty value, as django-filter does', () => {
    expect(transactionFiltersQuery.parse({ type: '', search: '', ordering: '' })).toEqual({ ordering: DEFAULT_ORDERING });
  });

  it.each([
    ['book', 'abc', '“abc” is not a valid UUID.'],
    ['type', 'gift', 'Select a valid choice. gift is not one of the available choices.'],
    ['payment_mode', 'gold', 'Select a valid choice. gold is not one of the available choices.'],
    ['date_from', '2026-02-30', 'Enter a valid date.'],
    ['date_to', 'today', 'Enter a valid date.'],
    ['min_amount', 'ten', 'Enter a number.'],
    ['max_amount', '1.005', 'Enter a number.'],
    ['ordering', 'name', 'Invalid ordering "name". Use date, amount, created_at, each optionally prefixed with "-".'],
    ['ordering', 'date,-id', 'Invalid ordering "-id". Use date, amount, created_at, each optionally prefixed with "-".'],
  ])('answers a bad %s=%j with a 400 naming the parameter', (name, value, message) => {
    expect(errors(transactionFiltersQuery, { [name]: value })).toEqual({ [name]: [message] });
  });

  it.each([
    ['date_from', `2026-01-01${' '.repeat(5000)}`, 'Enter a valid date.'],
    ['min_amount', `1.${'0'.repeat(5000)}1`, 'Enter a number.'],
    ['ordering', '-date,'.repeat(20), 'Ensure this value has at most 100 characters.'],
    ['search', '%'.repeat(201), 'Ensure this value has at most 200 characters.'],
    ['category', `${'c'.repeat(100)}\u0000`, 'Ensure this value has at most 100 characters.'],
  ])('refuses an over-long %s by its length alone, before reading it', (name, value, message) => {
    expect(errors(transactionFiltersQuery, { [name]: value })).toEqual({ [name]: [message] });
  });
});

describe('dates at the edge of the calendar', () => {
  it('accepts 0001-01-01 and 9999-12-31 in bodies and filters', () => {
    expect(createTransactionBody.parse({ ...full, date: '9999-12-31' }).date).toBe('9999-12-31');
    expect(createTransactionBody.parse({ ...full, date: '0001-01-01' }).date).toBe('0001-01-01');
    expect(transactionFiltersQuery.parse({ date_from: '0001-01-01', date_to: '9999-12-31' })).toMatchObject({ date_from: '0001-01-01', date_to: '9999-12-31' });
  });

  it.each(['10000-01-01', '+010000-01-01', '0000-12-31'])('refuses %s, outside Python\'s date', (date) => {
    expect(errors(createTransactionBody, { ...full, date })).toEqual({ date: ['Date has wrong format. Use one of these formats instead: YYYY-MM-DD.'] });
    expect(errors(transactionFiltersQuery, { date_to: date })).toEqual({ date_to: ['Enter a valid date.'] });
  });
});
