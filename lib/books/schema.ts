import { z } from 'zod';
import { isCurrencyCode } from '../currency.js';
import { moneyOutput } from '../money.js';
import { bounded, hasNoNul, NUL_MESSAGE, object, typeError } from '../validation.js';

const READ_ONLY = ['id', 'created_at', 'balance', 'is_default', 'user', 'role'] as const;

const name = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    .trim()
    .min(1, 'This field may not be blank.')
    .max(100, bounded('Ensure this field has no more than 100 characters.'))
    .refine(hasNoNul, NUL_MESSAGE);

const MAX_CURRENCY_INPUT = 64;

const notCurrency = (iss: { input?: unknown }) => `"${String(iss.input)}" is not a valid ISO 4217 currency code.`;

/** An ISO 4217 code; lower case is accepted and stored upper case. */
const currency = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    // Room for surrounding spaces; anything longer is no code, and is refused before it is read.
    .max(MAX_CURRENCY_INPUT, { error: notCurrency, abort: true })
    .meta({ examples: ['INR', 'usd'] })
    .transform((c) => c.trim().toUpperCase())
    .refine(isCurrencyCode, { error: notCurrency });

/** POST: currency defaults to DEFAULT_CURRENCY (filled in by the data layer). */
export const createBookBody = object({ name: name(), currency: currency().optional() }, READ_ONLY);
export const replaceBookBody = object({ name: name(), currency: currency() }, READ_ONLY);
export const patchBookBody = object({ name: name().optional(), currency: currency().optional() }, READ_ONLY);

export type CreateBookInput = z.output<typeof createBookBody>;
export type PatchBookInput = z.output<typeof patchBookBody>;

/** A book as the API answers it; its SQL is lib/books/queries.ts's `columns`. */
export const bookOutput = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(100),
  currency: z.string().regex(/^[A-Z]{3}$/).meta({ description: 'ISO 4217 code', example: 'INR' }),
  is_default: z.boolean().meta({ description: 'The book created with the account; never deleted' }),
  created_at: z.iso.datetime(),
  balance: moneyOutput().meta({ description: 'Income minus expense of all the book\'s transactions' }),
  role: z.enum(['owner', 'admin', 'operator', 'viewer']).meta({ description: 'The caller\'s role in the book (shared books)' }),
});

export const deleteBookQuery = z.looseObject({
  force: z
    .enum(['true', 'false', '1', '0'], { error: 'Must be "true" or "false".' })
    .optional()
    .transform((v) => v === 'true' || v === '1'),
});
