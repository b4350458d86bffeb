import { z } from 'zod';
import { typeError } from './validation.js';

// Money never passes through a float: amounts travel as decimal strings and are stored as
// NUMERIC(14,2). A JSON number is accepted only when its shortest decimal form has <= 2 places.

const MAX_DIGITS = 12;
const DECIMAL_PLACES = 2;

// Python's Decimal also reads "+5", ".5" and "5.".
const DECIMAL = /^([+-]?)(?=\.?\d)(\d*)(?:\.(\d*))?$/;

/** Validates and normalises an amount to "1234.50"; returns an error message instead when invalid. */
export function normaliseAmount(input: string | number, { allowZero = false } = {}): { value: string } | { error: string } {
  const raw = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  const m = DECIMAL.exec(raw);
  if (!m) return { error: 'A valid number is required.' };
  const negative = m[1] === '-' && /[1-9]/.test(raw);
  if (negative) return { error: 'Ensure this value is greater than or equal to 0.01.' };
  const whole = m[2]!.replace(/^0+(?=\d)/, '') || '0';
  const fraction = (m[3] ?? '').replace(/0+$/, '');
  if (fraction.length > DECIMAL_PLACES) {
    return { error: `Ensure that there are no more than ${DECIMAL_PLACES} decimal places.` };
  }
  const digits = (whole === '0' ? 0 : whole.length) + DECIMAL_PLACES;
  if (digits > MAX_DIGITS) return { error: `Ensure that there are no more than ${MAX_DIGITS} digits in total.` };
  const value = `${whole}.${fraction.padEnd(DECIMAL_PLACES, '0')}`;
  if (!allowZero && value === '0.00') return { error: 'Ensure this value is greater than or equal to 0.01.' };
  return { value };
}

/** A positive amount, as DRF's DecimalField(max_digits=12, decimal_places=2, min_value=0.01). */
export const amount = () =>
  z.union([z.string(), z.number()], { error: typeError('A valid number is required.') }).transform((input, ctx) => {
    const result = normaliseAmount(input);
    if ('error' in result) {
      ctx.addIssue({ code: 'custom', message: result.error });
      return z.NEVER;
    }
    return result.value;
  });

/** An amount as the API answers it: positive, at most 12 digits, two places. */
export const amountOutput = () => z.string().regex(/^\d{1,10}\.\d{2}$/).meta({ example: '150.00' });

/** A sum or balance as the API answers it: unbounded, two places, negative when expenses exceed income. */
export const moneyOutput = () => z.string().regex(/^-?\d+\.\d{2}$/).meta({ example: '-12.50' });
