import { z } from 'zod';
import { PAYMENT_MODES, TYPES } from '../transactions/schema.js';

// Response bodies, for the OpenAPI document only (handlers return rows; these describe them).

export const user = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string(),
  date_joined: z.iso.datetime(),
});

export const tokenPair = z.object({ refresh: z.string(), access: z.string() });
export const accessToken = z.object({ access: z.string(), refresh: z.string().optional() });

export const transaction = z.object({
  id: z.uuid(),
  type: z.enum(TYPES),
  amount: z.string().regex(/^\d{1,10}\.\d{2}$/).meta({ example: '150.00' }),
  category: z.string(),
  description: z.string(),
  date: z.iso.date(),
  payment_mode: z.enum(PAYMENT_MODES),
  created_at: z.iso.datetime(),
  updated_at: z.iso.datetime(),
});

export const transactionPage = z.object({
  count: z.int(),
  next: z.url().nullable(),
  previous: z.url().nullable(),
  results: z.array(transaction),
});

export const health = z.object({ status: z.literal('ok'), database: z.literal('ok') });
export const empty = z.object({});

export const fieldErrors = z
  .record(z.string(), z.array(z.string()))
  .meta({ description: 'DRF field errors: {"field": ["message"]}; "non_field_errors" for the body as a whole.' });
export const detail = z.object({ detail: z.string() });
export const detailWithCode = z.object({ detail: z.string(), code: z.string() });
