import { z } from 'zod';
import { amount } from '../money.js';
import { choice, dateString, object, text } from '../validation.js';

export const TYPES = ['income', 'expense'] as const;
export const PAYMENT_MODES = ['cash', 'bank', 'card', 'upi', 'cheque', 'other'] as const;

/** Read-only fields an old client may echo back in PUT/PATCH; DRF ignores them, so do we. */
const READ_ONLY = ['id', 'created_at', 'updated_at', 'user'] as const;

const fields = {
  type: choice(TYPES),
  amount: amount(),
  category: text(100),
  description: text(1000),
  date: dateString(),
  payment_mode: choice(PAYMENT_MODES),
};

/** POST: type and amount required; the rest default as in the old model. */
export const createBody = object(
  {
    type: fields.type,
    amount: fields.amount,
    category: fields.category.default(''),
    description: fields.description.default(''),
    date: fields.date.optional(),
    payment_mode: fields.payment_mode.default('cash'),
  },
  READ_ONLY,
);

/** PUT: every writable field required. */
export const replaceBody = object(fields, READ_ONLY);

/** PATCH: any subset. */
export const patchBody = object(
  {
    type: fields.type.optional(),
    amount: fields.amount.optional(),
    category: fields.category.optional(),
    description: fields.description.optional(),
    date: fields.date.optional(),
    payment_mode: fields.payment_mode.optional(),
  },
  READ_ONLY,
);

export type CreateInput = z.output<typeof createBody>;
export type PatchInput = z.output<typeof patchBody>;

const positiveInt = (name: string) =>
  z
    .string()
    .regex(/^\d{1,9}$/, `${name} must be a positive integer.`)
    .transform(Number)
    .refine((n) => n >= 1, `${name} must be a positive integer.`);

export const MAX_PAGE_SIZE = 500;
export const DEFAULT_PAGE_SIZE = 50;

export const listQuery = z.looseObject({
  page: positiveInt('page').optional().transform((p) => p ?? 1),
  page_size: positiveInt('page_size')
    .refine((n) => n <= MAX_PAGE_SIZE, `page_size must be at most ${MAX_PAGE_SIZE}.`)
    .optional()
    .transform((n) => n ?? DEFAULT_PAGE_SIZE),
});
export type ListQuery = z.output<typeof listQuery>;
