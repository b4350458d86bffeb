import { describe, expect, it } from 'vitest';
import { buildDocument } from '../../../lib/openapi/document.js';
import { EXPORT_MAX_BYTES, EXPORT_MAX_ROWS, toCsv } from '../../../lib/transactions/export.js';
import { serverlessFunctions } from '../../../scripts/lib/serverless-functions.js';

// The document and serverless.yml's functions, both generated from lib/routes/, describe the
// same routes both ways: this checks the two generators (the packaged template's routes are
// checked in tests/integration/template.test.ts).

const service = { functions: serverlessFunctions() };

const routes = Object.entries(service.functions).flatMap(([name, fn]) =>
  fn.events.flatMap((e) => ('httpApi' in e ? [{ name, ...(typeof e.httpApi === 'string' ? { method: '*', path: e.httpApi } : e.httpApi) }] : [])),
);
const served = routes.filter((r) => r.method !== 'ANY' && r.method !== '*').map((r) => `${r.method} ${r.path}`);
const doc = buildDocument() as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route served', () => {
    expect(served.length).toBeGreaterThan(10);
    expect(documented.sort()).toEqual([...served].sort());
  });

  it('lists every documented path under methodNotAllowed (405 for other methods)', () => {
    const anyPaths = routes.filter((r) => r.method === 'ANY').map((r) => r.path);
    expect([...new Set(anyPaths)].sort()).toEqual(Object.keys(doc.paths).sort());
  });

  it('declares routes without a trailing slash', () => {
    for (const r of routes) if (r.path !== '*') expect(r.path).not.toMatch(/\/$/);
  });

  it('resolves every $ref', () => {
    const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"#\/components\/schemas\/(\w+)"/g)].map((m) => m[1]!);
    expect(refs.length).toBeGreaterThan(0);
    for (const name of refs) expect(doc.components.schemas).toHaveProperty(name);
  });

  it('describes request bodies from the handlers\' zod schemas', () => {
    const create = doc.components.schemas.TransactionCreate as any;
    expect(create.required).toEqual(['type', 'amount']);
    expect(create.properties.payment_mode.enum).toContain('upi');
    expect(create.additionalProperties).toBe(false);
    expect(doc.paths['/api/transactions/{id}']!.get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
    expect((doc.components.schemas.BookCreate as any).required).toEqual(['name']);
  });

  it('describes the list query: filters, ordering and pagination', () => {
    const filters = ['book', 'type', 'category', 'payment_mode', 'date_from', 'date_to', 'min_amount', 'max_amount', 'search', 'exclude_transfers', 'ordering'];
    const list = doc.paths['/api/transactions']!.get.parameters;
    expect(list.map((p: any) => p.name)).toEqual([...filters, 'page', 'page_size']);
    for (const p of list) expect(p).toMatchObject({ in: 'query', required: false });
    expect(list.find((p: any) => p.name === 'type').schema.enum).toEqual(['income', 'expense']);
    for (const path of ['/api/transactions/summary', '/api/transactions/export']) {
      expect(doc.paths[path]!.get.parameters.map((p: any) => p.name)).toEqual(filters);
    }
    expect(doc.paths['/api/books']!.get.parameters.map((p: any) => p.name)).toEqual(['page', 'page_size']);
    const del = doc.paths['/api/books/{id}']!.delete;
    expect(del.parameters.map((p: any) => `${p.in} ${p.name}`)).toEqual(['path id', 'query force']);
    expect(del.parameters[1].schema.enum).toContain('true');
    expect(del.responses['409']).toBeDefined();
  });

  it('describes response bodies: transactions with book and balance_after, books, summary, CSV', () => {
    const s = doc.components.schemas as Record<string, any>;
    expect(s.Transaction.properties).toHaveProperty('book');
    expect(s.Transaction.properties).not.toHaveProperty('balance_after');
    expect(s.TransactionPage.properties.results.items.properties).toHaveProperty('balance_after');
    expect(s.TransactionPage.properties.results.items.properties).toHaveProperty('book');
    expect(Object.keys(s.Book.properties).sort()).toEqual(['balance', 'created_at', 'currency', 'id', 'is_default', 'name', 'role']);
    // Shared books: the member object, and the caller's role on every book.
    expect(Object.keys(s.Member.properties)).toEqual(['user', 'role', 'status', 'invited_by', 'created_at']);
    expect(s.Book.properties.role.enum).toEqual(['owner', 'admin', 'operator', 'viewer']);
    expect(Object.keys(s.BookPage.properties).sort()).toEqual(['count', 'next', 'previous', 'results']);
    // The transfers' sums came after the first shape, at the end.
    expect(s.Summary.required).toEqual(['count', 'total_income', 'total_expense', 'balance', 'by_category', 'by_month', 'transfers_in', 'transfers_out']);
    expect(s.Transaction.properties).toHaveProperty('transfer');
    expect(Object.keys(s.Transfer.properties)).toEqual(expect.arrayContaining(['id', 'from_book', 'to_book', 'amount', 'to_amount', 'from_entry', 'to_entry']));
    const get = (path: string, method = 'get') => doc.paths[path]![method].responses['200'].content['application/json'].schema.$ref;
    expect(get('/api/books')).toBe('#/components/schemas/BookPage');
    expect(get('/api/books/{id}')).toBe('#/components/schemas/Book');
    expect(get('/api/transactions/summary')).toBe('#/components/schemas/Summary');
    const csv = doc.paths['/api/transactions/export']!.get.responses['200'];
    expect(Object.keys(csv.content)).toEqual(['text/csv']);
    expect(csv.headers).toHaveProperty('Content-Disposition');
    // The route table writes the export's header row and caps as text: they must stay the code's.
    expect(csv.description).toContain(toCsv([]).trimEnd());
    const caps = `${EXPORT_MAX_ROWS.toLocaleString('en-US')} rows or ${EXPORT_MAX_BYTES / 1024 / 1024} MB`;
    expect(doc.paths['/api/transactions/export']!.get.summary).toContain(caps);
    expect(doc.paths['/api/transactions/export']!.get.responses['400'].description).toContain(caps);
  });

  it('documents Idempotency-Key on the POSTs that honour it', () => {
    for (const path of ['/api/transactions', '/api/books', '/api/transfers']) {
      const post = doc.paths[path]!.post;
      expect(post.parameters).toEqual([expect.objectContaining({ name: 'Idempotency-Key', in: 'header', required: false })]);
      expect(post.parameters[0].schema).toMatchObject({ type: 'string', maxLength: 255 });
      expect(Object.keys(post.responses)).toEqual(expect.arrayContaining(['201', '400', '401', '409', '422']));
      expect(post.responses['201'].headers).toHaveProperty('Idempotent-Replayed');
      expect(post.responses['409'].headers).toHaveProperty('Retry-After');
    }
    const others = Object.values(doc.paths).flatMap((ops) => Object.values(ops));
    const withKey = others.filter((op: any) => op.parameters?.some((p: any) => p.name === 'Idempotency-Key'));
    expect(withKey.map((op: any) => op.operationId).sort()).toEqual(['createBook', 'createTransaction', 'createTransfer']);
  });

  it('marks authenticated operations with the bearer scheme', () => {
    expect(doc.paths['/api/me']!.get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/token']!.post.security).toEqual([]);
    expect(doc.paths['/api/token']!.post.responses['429']).toBeDefined();
  });
});
