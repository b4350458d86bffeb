import { createHash } from 'node:crypto';
import { errorCode, type Db } from './db.js';

// Kept statements: the hottest statements' plans, kept by the server between requests.
//
// Through a pooler (RDS Proxy, PgBouncer) a backend serves request after request, yet a
// statement sent as text with parameters is parsed, analysed and planned again every time: for
// the list, ~1.5 ms of its ~3.2 ms of backend CPU. Named prepared statements would keep the plan
// but pin an RDS Proxy session (and are per connection, which in direct mode is per request).
// A PL/pgSQL function keeps the plans of the statements in its body for the life of the backend,
// and calling one is an ordinary statement: so each kept shape is a function whose body is
// exactly the statement this code generates, created by `npm run migrate`
// (scripts/lib/kept-sync.ts), named after a hash of that text. The code and the database cannot
// disagree on what a name runs: a changed statement is a new name. When the function is missing
// (a deploy whose migrate has not run yet, or has already replaced it), the statement is sent as
// text, as before: slower, never wrong.

/** Every kept function's name starts with this; kept-sync drops the ones no shape produces. */
export const KEPT_PREFIX = 'cashbook_kept_';

/** The function that runs `text`: a hash of the text, so that any change is a new function. */
export const keptName = (text: string): string => `${KEPT_PREFIX}${createHash('sha256').update(text).digest('hex').slice(0, 24)}`;

export interface KeptStatements {
  /** What the shapes are for, in kept-sync's output. */
  readonly label: string;
  /** The texts of the kept shapes. */
  texts(): readonly string[];
  /** Runs `text`: through its function when it is one of the shapes, else as it is. */
  query<R extends object>(db: Db, text: string, values: readonly unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Names this process found missing: sent as text from then on, without a failed call first. */
const missing = new Set<string>();

/**
 * A set of kept shapes; list it in lib/kept-catalog.ts, which migrate reads. `shapes` generates
 * each shape's text from sample inputs (the values travel as parameters, so any input of that
 * shape gives the same text); it runs once, on the first query, not at cold start.
 */
export function keptStatements(label: string, shapes: () => readonly string[]): KeptStatements {
  let names: Map<string, string> | undefined;
  const named = () => (names ??= new Map(shapes().map((text) => [text, keptName(text)])));
  return {
    label,
    texts: () => [...named().keys()],
    async query<R extends object>(db: Db, text: string, values: readonly unknown[]) {
      const name = named().get(text);
      // A backend of its own per request (direct): compiling the function would cost more
      // (~2.7 ms on a fresh backend) than the one plan it would keep.
      if (!name || !db.pooled || missing.has(name)) return db.query<R>(text, values);
      try {
        return await db.query<R>(`SELECT * FROM ${name}(${values.map((_, i) => `$${i + 1}`).join(', ')})`, values);
      } catch (err) {
        // 42883 undefined_function, for this name (not for a function its body calls).
        if (errorCode(err) !== '42883' || !(err as Error).message.includes(name)) throw err;
        missing.add(name);
        return db.query<R>(text, values);
      }
    },
  };
}
