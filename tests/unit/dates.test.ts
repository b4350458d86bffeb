import { describe, expect, it } from 'vitest';
import { isCalendarDate, isMonthEnd, monthStart, nextMonthStart } from '../../lib/dates.js';

describe('calendar dates (years 0001-9999, as Python\'s date)', () => {
  it.each(['0001-01-01', '9999-12-31', '2000-02-29', '2400-02-29'])('accepts %s', (date) => {
    expect(isCalendarDate(date)).toBe(true);
  });

  it.each(['0000-12-31', '1900-02-29', '2100-02-29', '10000-01-01', '+010000-01-01', '9999-12-32', `2026-01-01${' '.repeat(10)}`])(
    'refuses %j',
    (date) => {
      expect(isCalendarDate(date)).toBe(false);
    },
  );
});

describe('moving by a month', () => {
  it.each([
    ['2026-01-15', '2026-02-01'],
    ['2026-12-31', '2027-01-01'],
    ['0001-01-01', '0001-02-01'],
    ['0999-12-01', '1000-01-01'],
    // Date#toISOString() wrote "+010000-01-01" here, which PostgreSQL refuses (a 500 on main).
    ['9999-12-15', '10000-01-01'],
    ['9999-12-31', '10000-01-01'],
  ])('the month after %s starts on %s', (date, next) => {
    expect(nextMonthStart(date)).toBe(next);
  });

  it('knows the month ends, leap years included', () => {
    expect(['2024-02-29', '2023-02-28', '2026-04-30', '9999-12-31', '0001-01-31'].map(isMonthEnd)).toEqual([true, true, true, true, true]);
    expect(['2024-02-28', '2026-04-29', '9999-12-30', '1900-02-28'].map(isMonthEnd)).toEqual([false, false, false, true]);
  });

  it('finds the start of a month', () => {
    expect(monthStart('9999-12-31')).toBe('9999-12-01');
  });
});
