import { z } from 'zod';
import { userOutput } from '../auth/schemas.js';
import { bookOutput } from '../books/schema.js';
import { listedTransactionOutput, transactionOutput, transactionSummaryOutput } from '../transactions/schema.js';

// Response bodies, for the OpenAPI document only. An entity's shape is its own output schema
// (the one its SQL select list is built from); what only HTTP has is declared here.

export { userOutput as user, transactionOutput as transaction, bookOutput as book, transactionSummaryOutput as summary };

export const tokenPair = z.object({ refresh: z.string(), access: z.string() });
export const accessToken = z.object({ access: z.string(), refresh: z.string().optional() });

/** DRF PageNumberPagination's envelope. */
const page = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.int(),
    next: z.url().nullable(),
    previous: z.url().nullable(),
    results: z.array(item),
  });

export const transactionPage = page(listedTransactionOutput);

export const bookPage = page(bookOutput);

export const health = z.object({ status: z.literal('ok'), database: z.literal('ok') });
export const empty = z.object({});

export const fieldErrors = z
  .record(z.string(), z.array(z.string()))
  .meta({ description: 'DRF field errors: {"field": ["message"]}; "non_field_errors" for the body as a whole.' });
export const detail = z.object({ detail: z.string() });
export const detailWithCode = z.object({ detail: z.string(), code: z.string() });
/** A 400 that is either field errors or one message (malformed JSON, a bad header, an export too large). */
export const badRequest = z.union([fieldErrors, detail]);
