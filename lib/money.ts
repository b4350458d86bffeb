import { z } from 'zod';
import { typeError } from './validation.js';

// Money never passes through a float: amounts travel as decimal strings and are stored as
// NUMERIC(14,2). A JSON number is accepted only when its shortest decimal form has <= 2 places.

const MAX_DIGITS = 12;
const DECIMAL_PLACES = 2;

// Python's Decimal also reads "+5", ".5" and "5.". Anchored, with no two ways to match a digit:
// one pass over the input, however long.
const DECIMAL = /^([+-]?)(?=\.?\d)(\d*)(?:\.(\d*))?$/;

/**
 * DRF's DecimalField.MAX_STRING_LENGTH: a longer string is refused before it is read, so the
 * work done on an amount is bounded whatever the body holds.
 */
const MAX_AMOUNT_LENGTH = 1000;

/** `digits` without its trailing zeros ("500" -> "5"); a loop, where /0+$/ is quadratic in a run of zeros. */
function withoutTrailingZeros(digits: string): string {
  let end = digits.length;
  while (end > 0 && digits.charCodeAt(end - 1) === 0x30) end--;
  return digits.slice(0, end);
}

/** `digits` without its leading zeros, "0" when nothing else is left. */
function withoutLeadingZeros(digits: string): string {
  let start = 0;
  while (start < digits.length && digits.charCodeAt(start) === 0x30) start++;
  return digits.slice(start) || '0';
}

/** Validates and normalises an amount to "1234.50"; returns an error message instead when invalid. */
export function normaliseAmount(input: string | number, { allowZero = false } = {}): { value: string } | { error: string } {
  const raw = typeof input === 'number' ? (Number.isFinite(input) ? String(input) : '') : input.trim();
  if (raw.length > MAX_AMOUNT_LENGTH) return { error: 'String value too large.' };
  const m = DECIMAL.exec(raw);
  if (!m) return { error: 'A valid number is required.' };
  const whole = withoutLeadingZeros(m[2]!);
  const fraction = withoutTrailingZeros(m[3] ?? '');
  const negative = m[1] === '-' && (whole !== '0' || fraction !== '');
  if (negative) return { error: 'Ensure this value is greater than or equal to 0.01.' };
  if (fraction.length > DECIMAL_PLACES) {
    return { error: `Ensure that there are no more than ${DECIMAL_PLACES} decimal places.` };
  }
  const digits = (whole === '0' ? 0 : whole.length) + DECIMAL_PLACES;
  if (digits > MAX_DIGITS) return { error: `Ensure that there are no more than ${MAX_DIGITS} digits in total.` };
  const value = `${whole}.${fraction.padEnd(DECIMAL_PLACES, '0')}`;
  if (!allowZero && value === '0.00') return { error: 'Ensure this value is greater than or equal to 0.01.' };
  return { value };
}

/** How the document describes an amount string (the parser is more lenient: "+5", " 5.", "0005"). */
export const AMOUNT_PATTERN = '^\\d{1,10}(\\.\\d{1,2})?$';

/** A positive amount, as DRF's DecimalField(max_digits=12, decimal_places=2, min_value=0.01). */
export const amount = () =>
  z
    .union([z.string().meta({ pattern: AMOUNT_PATTERN }), z.number().meta({ minimum: 0.01, maximum: 9_999_999_999.99 })], {
      error: typeError('A valid number is required.'),
    })
    .meta({ examples: ['150.00', 150.5] })
    .transform((input, ctx) => {
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
