import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// RDS Proxy safety in the source: nothing in lib/ or functions/ sends SQL that pins a proxied
// session to its database connection (or that PgBouncer's transaction mode would break):
// SET / set_config, named prepared statements, advisory locks, LISTEN, temporary tables,
// cursors. Migrations (lib/migrations) run on a direct admin connection and are not scanned.

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'migrations' ? [] : sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

const files = [...sources(join(root, 'lib')), ...sources(join(root, 'functions'))];

/** The code without comments; `//` only counts after whitespace or at a line start (not in URLs). */
const stripComments = (code: string) => code.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|\s)\/\/.*$/gm, '$1');

/** Every string and template literal: where SQL lives. */
const literals = (code: string) =>
  [...code.matchAll(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"|`(?:[^`\\]|\\.)*`/g)].map((m) => m[0]);

const FORBIDDEN_SQL: Array<[string, RegExp]> = [
  ['SET (session setting)', /(^|;)\s*['"`]?\s*(SET|RESET)\s+(SESSION\s+|LOCAL\s+)?[a-z_]+\s*(=|TO\b)/i],
  ['set_config()', /\bset_config\s*\(/i],
  ['advisory lock', /\bpg_(try_)?advisory/i],
  ['LISTEN / UNLISTEN', /(^|;)\s*['"`]?\s*(UN)?LISTEN\b/i],
  ['temporary table', /\bCREATE\s+(GLOBAL\s+|LOCAL\s+)?TEMP(ORARY)?\s+TABLE\b/i],
  ['PREPARE / DEALLOCATE', /(^|;)\s*['"`]?\s*(PREPARE|DEALLOCATE|DISCARD)\s/i],
  ['cursor', /\bDECLARE\s+\w+\s+(BINARY\s+)?(INSENSITIVE\s+)?(NO\s+)?(SCROLL\s+)?CURSOR\b/i],
];

describe('proxy-safe SQL in lib/ and functions/', () => {
  it('finds the sources it scans', () => {
    expect(files.map((f) => relative(root, f))).toEqual(expect.arrayContaining(['lib/db.ts', 'lib/transactions/queries.ts']));
  });

  it.each(FORBIDDEN_SQL)('sends no %s', (_, pattern) => {
    const hits = files.flatMap((file) =>
      literals(stripComments(readFileSync(file, 'utf8')))
        .filter((literal) => pattern.test(literal))
        .map((literal) => `${relative(root, file)}: ${literal.slice(0, 80)}`),
    );
    expect(hits).toEqual([]);
  });

  it('uses no query config objects (a `name` there makes a named prepared statement)', () => {
    const hits = files.filter((file) => /\.query\s*(<[^>]*>)?\s*\(\s*\{/.test(stripComments(readFileSync(file, 'utf8'))));
    expect(hits.map((f) => relative(root, f))).toEqual([]);
  });

  it('passes no startup options or client-side timeouts to pg', () => {
    const db = stripComments(readFileSync(join(root, 'lib/db.ts'), 'utf8'));
    for (const option of ['options:', 'statement_timeout', 'query_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout']) {
      expect(db, option).not.toContain(option);
    }
  });

  it('catches what it should (the patterns are not vacuous)', () => {
    const bad = ["'SET statement_timeout = 0'", '`SELECT pg_advisory_lock(1)`', "'LISTEN jobs'", "'CREATE TEMP TABLE t (x int)'", "'SET search_path TO app'"];
    for (const literal of bad) expect(FORBIDDEN_SQL.some(([, p]) => p.test(literal)), literal).toBe(true);
    expect(FORBIDDEN_SQL.some(([, p]) => p.test("'UPDATE transactions SET amount = $1 WHERE id = $2'"))).toBe(false);
  });
});
