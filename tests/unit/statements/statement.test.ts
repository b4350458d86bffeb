import { describe, expect, it } from 'vitest';
import { amountFormatter, currencyDigits } from '../../../lib/statements/format.js';
import { buildStatement, fromCents, periodText, statementFileName, toCents, type StatementRows } from '../../../lib/statements/statement.js';

const rows = (entries: StatementRows['entries'], opening = '0.00'): StatementRows => ({
  book: { name: 'Cash', currency: 'INR' },
  period: { from: '2025-01-01', to: '2025-01-31' },
  opening,
  entries,
});
const entry = (type: 'income' | 'expense', amount: string, category = '', date = '2025-01-02') =>
  ({ date, type, amount, category, description: '', payment_mode: 'cash' }) as const;

describe('buildStatement', () => {
  it('runs the balance from the opening balance, entry by entry', () => {
    const s = buildStatement(rows([entry('income', '100.10'), entry('expense', '30.05'), entry('expense', '200.00')], '-5.00'));
    expect(s.entries.map((e) => fromCents(e.balance))).toEqual(['95.10', '65.05', '-134.95']);
    expect([s.totalIn, s.totalOut, s.closing].map(fromCents)).toEqual(['100.10', '230.05', '-134.95']);
  });

  it('totals per category, sorted by category, "" (no category) included', () => {
    const s = buildStatement(rows([entry('expense', '1.00', 'Rent'), entry('income', '2.00', ''), entry('expense', '3.00', 'Food'), entry('income', '4.00', 'Rent')]));
    expect(s.byCategory.map((c) => [c.category, c.entries, fromCents(c.income), fromCents(c.expense)])).toEqual([
      ['', 1, '2.00', '0.00'],
      ['Food', 1, '0.00', '3.00'],
      ['Rent', 2, '4.00', '1.00'],
    ]);
  });

  it('stays exact past 2^53 cents (sums of many NUMERIC(14,2) amounts)', () => {
    const big = Array.from({ length: 1000 }, () => entry('income', '9999999999.99'));
    expect(fromCents(buildStatement(rows(big)).closing)).toBe('9999999999990.00');
    expect(toCents('-0.5')).toBe(-50n);
    expect(fromCents(-5n)).toBe('-0.05');
  });

  it('an empty period: opening = closing, no categories', () => {
    const s = buildStatement(rows([], '12.34'));
    expect([s.opening, s.closing].map(fromCents)).toEqual(['12.34', '12.34']);
    expect(s.byCategory).toEqual([]);
  });

  it('names the period and the file', () => {
    expect(periodText({ from: '2025-01-01', to: null })).toBe('from 2025-01-01');
    expect(periodText({ from: null, to: null })).toBe('all entries');
    expect(statementFileName({ from: null, to: '2025-12-31' }, 'pdf')).toBe('statement_start_2025-12-31.pdf');
  });
});

describe('amountFormatter', () => {
  it("writes the currency's decimals and grouping (lakh and crore for INR)", () => {
    expect(amountFormatter('INR')(12345678905n)).toBe('12,34,56,789.05');
    expect(amountFormatter('USD')(-12345678905n)).toBe('-123,456,789.05');
    expect(amountFormatter('EUR')(0n)).toBe('0.00');
  });

  it('JPY without decimals unless an amount has cents; KWD with three', () => {
    expect(currencyDigits('JPY')).toBe(0);
    expect(amountFormatter('JPY')(123400n)).toBe('1,234');
    expect(amountFormatter('JPY')(123450n)).toBe('1,234.50');
    expect(amountFormatter('KWD')(150n)).toBe('1.500');
  });

  it('formats sums beyond a double exactly', () => {
    expect(amountFormatter('USD')(123456789012345678901n)).toBe('1,234,567,890,123,456,789.01');
  });
});
