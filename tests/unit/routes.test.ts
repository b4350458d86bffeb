import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { successStatus } from '../../lib/http/api.js';
import { ACCOUNT_ROUTES } from '../../lib/routes/accounts.js';
import { ATTACHMENT_ROUTES } from '../../lib/routes/attachments.js';
import { BOOK_ROUTES } from '../../lib/routes/books.js';
import { FALLBACKS, handlerFile, ROUTES } from '../../lib/routes/index.js';
import { HISTORY_ROUTES } from '../../lib/routes/history.js';
import { MEMBER_ROUTES } from '../../lib/routes/members.js';
import { SERVICE_ROUTES } from '../../lib/routes/service.js';
import { STATEMENT_ROUTES } from '../../lib/routes/statements.js';
import { TRANSACTION_ROUTES } from '../../lib/routes/transactions.js';
import { TRANSFER_ROUTES } from '../../lib/routes/transfers.js';
import { serverlessFunctions } from '../../scripts/lib/serverless-functions.js';

// The route table is the one source of the handlers' options and serverless.yml's functions:
// each entry has its handler file, and that file hands api() its own entry.

const root = fileURLToPath(new URL('../..', import.meta.url));
const names = [...Object.keys(ROUTES), ...Object.keys(FALLBACKS)];

describe('route table', () => {
  it('has one handler file per entry, and no handler file without an entry', () => {
    const files = readdirSync(join(root, 'functions')).filter((f) => f.endsWith('.ts')).map((f) => `functions/${f}`);
    expect(names.map(handlerFile).sort()).toEqual(files.sort());
  });

  it('gives each handler its own entry', () => {
    for (const name of names) {
      const source = readFileSync(join(root, handlerFile(name)), 'utf8');
      expect(source, name).toMatch(new RegExp(`\\bapi\\(\\w+\\.${name}\\b`));
    }
  });

  it('names each entry once across the tag files (a repeated name would silently replace one)', () => {
    const parts = [ACCOUNT_ROUTES, TRANSACTION_ROUTES, BOOK_ROUTES, MEMBER_ROUTES, ATTACHMENT_ROUTES, TRANSFER_ROUTES, STATEMENT_ROUTES, SERVICE_ROUTES, HISTORY_ROUTES, FALLBACKS];
    expect(parts.reduce((n, part) => n + Object.keys(part).length, 0)).toBe(new Set(names).size);
  });

  it('declares each route once, without a trailing slash', () => {
    const keys = Object.values(ROUTES).map((r) => `${r.method} ${r.path}`);
    expect(new Set(keys).size).toBe(keys.length);
    for (const key of keys) expect(key).not.toMatch(/\/$/);
  });

  it('derives the success status from the lowest 2xx reply', () => {
    expect(successStatus(ROUTES.createTransaction)).toBe(201);
    expect(successStatus(ROUTES.deleteBook)).toBe(204);
    expect(successStatus(ROUTES.listBooks)).toBe(200);
    expect(successStatus(FALLBACKS.notFound)).toBe(200);
  });
});

describe("serverless.yml's functions", () => {
  const functions = serverlessFunctions({ getMe: 2, notFound: 0 });

  it('has one function per entry, its handler the entry\'s file', () => {
    expect(Object.keys(functions).sort()).toEqual([...names].sort());
    for (const [name, fn] of Object.entries(functions)) {
      expect(existsSync(join(root, fn.handler.replace(/\.handler$/, '.ts'))), name).toBe(true);
    }
    expect(functions.createBook!.events).toEqual([{ httpApi: { method: 'POST', path: '/api/books' } }]);
  });

  it("names each function without a '-', so a pooled function's application_name is its stage's (lib/config.ts)", () => {
    for (const name of Object.keys(functions)) expect(name).toMatch(/^[A-Za-z0-9]+$/);
  });

  it('routes ANY on every path to methodNotAllowed and the rest to notFound', () => {
    const paths = new Set(Object.values(ROUTES).map((r) => r.path));
    expect(functions.methodNotAllowed!.events).toEqual([...paths].map((path) => ({ httpApi: { method: 'ANY', path } })));
    expect(functions.notFound!.events).toEqual([{ httpApi: '*' }]);
  });

  it("takes each function's reservation from the stage's reservedConcurrency, none without an entry", () => {
    expect(functions.getMe!.reservedConcurrency).toBe(2);
    expect(functions.notFound!.reservedConcurrency).toBe(0);
    expect(functions.listBooks).not.toHaveProperty('reservedConcurrency');
  });
});
