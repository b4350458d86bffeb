import type { z } from 'zod';

// SQL fragments shared by the data-access files.

/**
 * A timestamptz as the API shows it: ISO 8601 UTC with milliseconds, exactly what
 * Date#toISOString writes. Formatted in SQL so that a response stored for Idempotency-Key
 * replays (built with row_to_json) is identical to the one sent the first time.
 */
export const isoTimestamp = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** An income adds to a book's balance, an expense takes away. */
export const signedAmount = (alias: string) => `CASE WHEN ${alias}.type = 'income' THEN ${alias}.amount ELSE -${alias}.amount END`;

/** An unbounded numeric (sums never overflow NUMERIC(14,2)) as a decimal string with two places. */
export const money = (expression: string) => `round(COALESCE(${expression}, 0), 2)::text`;

/** How to read each field of an output schema, given the table's alias: one entry per field, no more. */
type FieldSql<S extends z.ZodObject> = { [K in keyof S['shape']]: (alias: string) => string };

/**
 * The select list of an output schema: each field's expression AS the field, in the schema's
 * order (the key order of the JSON answer, and of the one saved for Idempotency-Key replays).
 * `replace` swaps a field's expression for one statement.
 */
export function selectList<S extends z.ZodObject>(schema: S, sql: FieldSql<S>) {
  const fields = Object.keys(schema.shape) as Array<keyof S['shape'] & string>;
  return (alias: string, replace: Partial<Record<keyof S['shape'], string>> = {}) =>
    fields.map((field) => `${replace[field] ?? sql[field](alias)} AS ${field}`).join(', ');
}
