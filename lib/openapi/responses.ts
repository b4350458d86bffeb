import { z } from 'zod';
import { PAYMENT_MODES, TYPES } from '../transactions/schema.js';

// Response bodies, for the OpenAPI document only (handlers return rows; these describe them).

export const user = z.object({
  id: z.number().int().positive().meta({ description: 'Django auth_user.id: an integer' }),
  username: z.string(),
  email: z.string(),
  date_joined: z.iso.datetime(),
});

export const tokenPair = z.object({ refresh: z.string(), access: z.string() });
export const accessToken = z.object({ access: z.string(), refresh: z.string().optional() });

/** One amount: positive, at most 12 digits, two places. */
const amount = () => z.string().regex(/^\d{1,10}\.\d{2}$/).meta({ example: '150.00' });
/** A sum or balance: unbounded, two places, negative when expenses exceed income. */
const money = () => z.string().regex(/^-?\d+\.\d{2}$/).meta({ example: '-12.50' });

export const transaction = z.object({
  id: z.uuid(),
  book: z.uuid().meta({ description: 'The id of one of the user\'s books' }),
  type: z.enum(TYPES),
  amount: amount(),
  category: z.string(),
  description: z.string(),
  date: z.iso.date(),
  payment_mode: z.enum(PAYMENT_MODES),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

/** A transaction in a list: also its book's balance after it, in ledger order. */
export const listedTransaction = transaction.extend({
  balance_after: money().meta({
    description: 'The book\'s balance after this entry, in ledger order (date, created_at, id), over all the book\'s transactions whatever the filters',
  }),
});

/** DRF PageNumberPagination's envelope. */
const page = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.int(),
    next: z.url().nullable(),
    previous: z.url().nullable(),
    results: z.array(item),
  });

export const transactionPage = page(listedTransaction);

export const book = z.object({
  id: z.uuid(),
  name: z.string().min(1).max(100),
  currency: z.string().regex(/^[A-Z]{3}$/).meta({ description: 'ISO 4217 code', example: 'INR' }),
  is_default: z.boolean().meta({ description: 'The book created with the account; never deleted' }),
  created_at: z.iso.datetime(),
  balance: money().meta({ description: 'Income minus expense of all the book\'s transactions' }),
});

export const bookPage = page(book);

export const summary = z.object({
  count: z.int(),
  total_income: money(),
  total_expense: money(),
  balance: money().meta({ description: 'total_income - total_expense' }),
  by_category: z.array(z.object({ category: z.string(), income: money(), expense: money() })).meta({ description: 'Sorted by category' }),
  by_month: z
    .array(z.object({ month: z.string().regex(/^\d{4}-\d{2}$/).meta({ example: '2025-01' }), income: money(), expense: money(), balance: money() }))
    .meta({ description: 'Sorted by month' }),
});

export const health = z.object({ status: z.literal('ok'), database: z.literal('ok') });
export const empty = z.object({});

export const fieldErrors = z
  .record(z.string(), z.array(z.string()))
  .meta({ description: 'DRF field errors: {"field": ["message"]}; "non_field_errors" for the body as a whole.' });
export const detail = z.object({ detail: z.string() });
export const detailWithCode = z.object({ detail: z.string(), code: z.string() });
/** A 400 that is either field errors or one message (malformed JSON, a bad header, an export too large). */
export const badRequest = z.union([fieldErrors, detail]);
