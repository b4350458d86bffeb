import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { buildDocument } from '../../../lib/openapi/document.js';

// The document and serverless.yml describe the same routes, both ways.

const root = fileURLToPath(new URL('../../..', import.meta.url));
const service = parse(readFileSync(`${root}serverless.yml`, 'utf8')) as {
  functions: Record<string, { handler: string; events: Array<{ httpApi: string | { method: string; path: string } }> }>;
};

const routes = Object.entries(service.functions).flatMap(([name, fn]) =>
  fn.events.map((e) => ({ name, ...(typeof e.httpApi === 'string' ? { method: '*', path: e.httpApi } : e.httpApi) })),
);
const served = routes.filter((r) => r.method !== 'ANY' && r.method !== '*').map((r) => `${r.method} ${r.path}`);
const doc = buildDocument() as { openapi: string; paths: Record<string, Record<string, any>>; components: { schemas: Record<string, unknown> } };
const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));

describe('OpenAPI document', () => {
  it('is OpenAPI 3.1', () => {
    expect(doc.openapi).toBe('3.1.0');
  });

  it('documents every route in serverless.yml', () => {
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
    const params = doc.paths['/api/transactions']!.get.parameters.map((p: any) => p.name);
    expect(params).toEqual(['page', 'page_size']);
    expect(doc.paths['/api/transactions/{id}']!.get.parameters[0]).toMatchObject({ name: 'id', in: 'path', required: true });
  });

  it('marks authenticated operations with the bearer scheme', () => {
    expect(doc.paths['/api/me']!.get.security).toEqual([{ bearer: [] }]);
    expect(doc.paths['/api/token']!.post.security).toEqual([]);
    expect(doc.paths['/api/token']!.post.responses['429']).toBeDefined();
  });
});
