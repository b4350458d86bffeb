import { z } from 'zod';

// Response bodies that only HTTP has, for the OpenAPI document. An entity's shape is its own
// output schema (lib/<entity>/schema.ts, the one its SQL select list is built from); this file
// imports none, so a function's bundle carries only the entity schemas its routes use.

export const tokenPair = z.object({ refresh: z.string(), access: z.string() });
export const accessToken = z.object({ access: z.string(), refresh: z.string().optional() });

/** DRF PageNumberPagination's envelope. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({
    count: z.int(),
    next: z.url().nullable(),
    previous: z.url().nullable(),
    results: z.array(item),
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
