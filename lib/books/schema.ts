import { z } from 'zod';
import { isCurrencyCode } from '../currency.js';
import { hasNoNul, NUL_MESSAGE, object, typeError } from '../validation.js';

const READ_ONLY = ['id', 'created_at', 'balance', 'is_default', 'user'] as const;

const name = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    .trim()
    .min(1, 'This field may not be blank.')
    .max(100, 'Ensure this field has no more than 100 characters.')
    .refine(hasNoNul, NUL_MESSAGE);

/** An ISO 4217 code; lower case is accepted and stored upper case. */
const currency = () =>
  z
    .string({ error: typeError('Not a valid string.') })
    .transform((c) => c.trim().toUpperCase())
    .refine(isCurrencyCode, { error: (iss) => `"${String(iss.input)}" is not a valid ISO 4217 currency code.` });

/** POST: currency defaults to DEFAULT_CURRENCY (filled in by the data layer). */
export const createBookBody = object({ name: name(), currency: currency().optional() }, READ_ONLY);
export const replaceBookBody = object({ name: name(), currency: currency() }, READ_ONLY);
export const patchBookBody = object({ name: name().optional(), currency: currency().optional() }, READ_ONLY);

export type CreateBookInput = z.output<typeof createBookBody>;
export type PatchBookInput = z.output<typeof patchBookBody>;

export const deleteBookQuery = z.looseObject({
  force: z
    .enum(['true', 'false', '1', '0'], { error: 'Must be "true" or "false".' })
    .optional()
    .transform((v) => v === 'true' || v === '1'),
});
