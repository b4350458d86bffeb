import { z } from 'zod';
import { isCalendarDate } from './dates.js';
import { ValidationError, type FieldErrors } from './errors.js';

// zod schemas that speak DRF: the same messages, the same {"field": ["message"]} shape.

export const REQUIRED = 'This field is required.';

type Issue = { input?: unknown };

/** DRF's messages for a missing, null or wrong-typed value. */
export const typeError = (expected: string) => (iss: Issue) =>
  iss.input === undefined ? REQUIRED : iss.input === null ? 'This field may not be null.' : expected;

/** DRF's ProhibitNullCharactersValidator: PostgreSQL text cannot hold U+0000 either. */
export const NUL_MESSAGE = 'Null characters are not allowed.';
export const hasNoNul = (value: string) => !value.includes('\u0000');

/**
 * Options of a length check (`.max(n, bounded(message))`) that stop the chain when it fails:
 * what comes after it (a regex, a refinement, a transform) never reads more than n characters
 * of client input, however large the body or query string. (Not inside a union: zod reports
 * only a union option whose issues did not abort.)
 */
export const bounded = (message: string) => ({ message, abort: true }) as const;

export const text = (max: number) =>
  z
    .string({ error: typeError('Not a valid string.') })
    .max(max, bounded(`Ensure this field has no more than ${max} characters.`))
    .refine(hasNoNul, NUL_MESSAGE);

export const choice = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, {
    error: (iss) => typeError(`"${String(iss.input)}" is not a valid choice.`)(iss),
  });

const DATE_FORMAT = 'Date has wrong format. Use one of these formats instead: YYYY-MM-DD.';

/** `YYYY-MM-DD`, years 0001-9999 as Python's date (lib/dates.ts). */
export const dateString = () =>
  z
    .string({ error: typeError(DATE_FORMAT) })
    .max(10, bounded(DATE_FORMAT))
    .refine(isCalendarDate, DATE_FORMAT)
    .meta({ format: 'date' });

/** A JSON object with exactly these keys; `ignored` keys (read-only fields) are accepted and dropped. */
export function object<S extends z.ZodRawShape>(shape: S, ignored: readonly string[] = []) {
  const strict = z.strictObject(shape, { error: (iss) => objectError(iss) });
  return z.preprocess((input) => {
    if (!isPlainObject(input) || ignored.length === 0) return input;
    const copy = { ...input };
    for (const key of ignored) delete copy[key];
    return copy;
  }, strict);
}

function objectError(iss: { code: string; input?: unknown }): string | undefined {
  if (iss.code !== 'invalid_type') return undefined;
  return `Invalid data. Expected a dictionary, but got ${describe(iss.input)}.`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return 'null';
  if (Array.isArray(value)) return 'list';
  if (typeof value === 'string') return 'str';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'boolean') return 'bool';
  return typeof value;
}

/** zod issues -> DRF's field error map. */
export function fieldErrors(error: z.ZodError): FieldErrors {
  // A Map: client-chosen keys such as "toString" or "__proto__" must not meet Object.prototype.
  const out = new Map<string, string[]>();
  const add = (key: string, message: string) => {
    const list = out.get(key) ?? [];
    out.set(key, list);
    if (!list.includes(message)) list.push(message);
  };
  for (const issue of error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) add(key, 'Unknown field.');
      continue;
    }
    const key = issue.path.length > 0 ? String(issue.path[0]) : 'non_field_errors';
    add(key, issue.message);
  }
  return Object.fromEntries(out);
}

/** Parses or throws a 400 ValidationError. */
export function parse<S extends z.ZodType>(schema: S, input: unknown): z.output<S> {
  const result = schema.safeParse(input);
  if (!result.success) throw new ValidationError(fieldErrors(result.error));
  return result.data;
}
