import { z } from 'zod';
import { bounded } from './validation.js';

// DRF PageNumberPagination's query parameters, part of every list query's schema. The page
// envelope (next/previous URLs) is HTTP's: lib/http/pagination.ts.

const MAX_PAGE_SIZE = 500;
const DEFAULT_PAGE_SIZE = 50;

const positiveInt = (name: string, examples: string[]) =>
  z
    .string()
    .max(9, bounded(`${name} must be a positive integer.`))
    .regex(/^\d{1,9}$/, `${name} must be a positive integer.`)
    .meta({ examples })
    .transform(Number)
    .refine((n) => n >= 1, `${name} must be a positive integer.`);

export const pageFields = {
  page: positiveInt('page', ['1', '2']).optional().transform((p) => p ?? 1),
  page_size: positiveInt('page_size', ['50', '500'])
    .refine((n) => n <= MAX_PAGE_SIZE, `page_size must be at most ${MAX_PAGE_SIZE}.`)
    .optional()
    .transform((n) => n ?? DEFAULT_PAGE_SIZE),
};
