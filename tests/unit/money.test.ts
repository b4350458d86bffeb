import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { amount, normaliseAmount } from '../../lib/money.js';

const MIN = 'Ensure this value is greater than or equal to 0.01.';
const INVALID = 'A valid number is required.';
const PLACES = 'Ensure that there are no more than 2 decimal places.';
const DIGITS = 'Ensure that there are no more than 12 digits in total.';

describe('normaliseAmount', () => {
  it.each([
    ['150', '150.00'],
    [150, '150.00'],
    [150.5, '150.50'],
    ['150.5', '150.50'],
    ['0.01', '0.01'],
    [0.01, '0.01'],
    ['9999999999.99', '9999999999.99'],
    ['0009.5', '9.50'],
    ['0.10', '0.10'],
    ['1.500', '1.50'],
    [' 42 ', '42.00'],
    ['\t7.25\n', '7.25'],
  ] as const)('normalises %j to %j', (input, expected) => {
    expect(normaliseAmount(input)).toEqual({ value: expected });
  });

  it.each([0, '0', '0.00', '000.000', -0])('rejects zero (%j) as below the minimum', (input) => {
    expect(normaliseAmount(input)).toEqual({ error: MIN });
  });

  it.each([-5, '-5', '-0.01', ' -1'])('rejects the negative amount %j as below the minimum', (input) => {
    expect(normaliseAmount(input)).toEqual({ error: MIN });
  });

  it.each(['abc', '', '   ', '1e3', '1,000', '12.34.56', '0x10', Infinity, -Infinity, NaN, 1e309])(
    'rejects %j as not a number',
    (input) => {
      expect(normaliseAmount(input)).toEqual({ error: INVALID });
    },
  );

  it.each(['1.005', '0.001', 0.1 + 0.2, 1.005])('rejects %j for having more than 2 decimal places', (input) => {
    expect(normaliseAmount(input)).toEqual({ error: PLACES });
  });

  it.each(['12345678901', '10000000000.00', '99999999999.99', 1e20])(
    'rejects %j for having more than 10 integer digits',
    (input) => {
      expect(normaliseAmount(input)).toEqual({ error: DIGITS });
    },
  );

  it('does not count leading zeros as digits', () => {
    expect(normaliseAmount('0000009999999999.99')).toEqual({ value: '9999999999.99' });
  });
});

describe('normaliseAmount on long strings (DRF\'s DecimalField.MAX_STRING_LENGTH)', () => {
  it('reads up to 1000 characters, as DRF does', () => {
    expect(normaliseAmount(`${'0'.repeat(994)}1.500`)).toEqual({ value: '1.50' });
    expect(normaliseAmount(`1.${'0'.repeat(997)}1`)).toEqual({ error: PLACES });
    expect(normaliseAmount(` ${'0'.repeat(996)}1.5 `)).toEqual({ value: '1.50' });
  });

  it.each([`1.${'0'.repeat(60_000)}1`, '1'.repeat(1001), `${'0'.repeat(1000)}1`])('refuses a longer one before reading it', (input) => {
    expect(normaliseAmount(input)).toEqual({ error: 'String value too large.' });
  });

  it('strips any number of trailing zeros in linear time', () => {
    // The old /0+$/ took seconds over 60,000 zeros: it rescanned the run from every position.
    const start = performance.now();
    expect(normaliseAmount(`7.${'0'.repeat(997)}`)).toEqual({ value: '7.00' });
    expect(normaliseAmount(`-0.${'0'.repeat(996)}`)).toEqual({ error: MIN });
    expect(performance.now() - start).toBeLessThan(50);
  });
});

describe('amount()', () => {
  const schema = z.object({ amount: amount() });

  it('outputs the normalised decimal string', () => {
    expect(schema.parse({ amount: 150.5 })).toEqual({ amount: '150.50' });
  });

  it('reports normalisation errors on the amount field', () => {
    const result = schema.safeParse({ amount: '1.005' });
    expect(result.success).toBe(false);
    expect(result.error?.issues).toEqual([expect.objectContaining({ path: ['amount'], message: PLACES })]);
  });

  it.each([
    [undefined, 'This field is required.'],
    [null, 'This field may not be null.'],
    [true, INVALID],
    [[1], INVALID],
    [{ value: 1 }, INVALID],
  ])('reports %j with DRF’s message', (input, message) => {
    const result = amount().safeParse(input);
    expect(result.error?.issues.map((i) => i.message)).toEqual([message]);
  });
});

describe('normaliseAmount reads what Python\'s Decimal reads', () => {
  it.each([
    ['.5', '0.50'],
    ['5.', '5.00'],
    ['+5', '5.00'],
  ])('accepts %j as %j', (input, expected) => {
    expect(normaliseAmount(input)).toEqual({ value: expected });
  });

  it.each(['-', '-abc', '+', '.'])('reports %j as not a number rather than below the minimum', (input) => {
    expect(normaliseAmount(input)).toEqual({ error: 'A valid number is required.' });
  });
});
