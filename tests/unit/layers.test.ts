import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// Dependencies point one way: functions -> lib/routes, lib/openapi -> lib/http -> the domain (the
// rest of lib/) -> lib/db.ts. The domain knows nothing of requests and responses, so it can be called
// from a script or a test as it is from a handler.

const root = fileURLToPath(new URL('../..', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return path.endsWith('.ts') ? [path] : [];
  });
}

/** What a file imports from the project, as paths from the root (`lib/http/responses.ts`). */
function localImports(file: string): string[] {
  const code = readFileSync(file, 'utf8');
  const specifiers = [...code.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)['"](\.[^'"]+)['"]/g)].map((m) => m[1]!);
  return specifiers.map((s) => relative(root, resolve(dirname(file), s)).replace(/\.js$/, '.ts'));
}

const rel = (file: string) => relative(root, file);
const lib = sources(join(root, 'lib'));
const under = (dir: string) => (path: string) => path.startsWith(`${dir}/`);
const presentation = (path: string) => ['lib/http', 'lib/routes', 'lib/openapi'].some((dir) => under(dir)(path));
const domain = lib.filter((f) => !presentation(rel(f)));

describe('layers', () => {
  it('finds the files it checks', () => {
    expect(domain.map(rel)).toEqual(expect.arrayContaining(['lib/transactions/queries.ts', 'lib/books/queries.ts', 'lib/db.ts']));
    expect(localImports(join(root, 'lib/http/idempotent.ts'))).toContain('lib/idempotency.ts');
  });

  it.each(domain.map(rel))('%s imports neither lib/http, lib/routes, lib/openapi nor functions/', (file) => {
    const upward = localImports(join(root, file)).filter((p) => presentation(p) || under('functions')(p));
    expect(upward).toEqual([]);
  });

  it.each(lib.filter((f) => presentation(rel(f))).map(rel))('%s imports no handler', (file) => {
    expect(localImports(join(root, file)).filter(under('functions'))).toEqual([]);
  });

  it.each(lib.filter((f) => under('lib/http')(rel(f))).map(rel))('%s imports neither lib/routes nor lib/openapi', (file) => {
    expect(localImports(join(root, file)).filter((p) => under('lib/routes')(p) || under('lib/openapi')(p))).toEqual([]);
  });

  it('lib/db.ts imports no domain module (it is the bottom layer)', () => {
    const entities = ['lib/auth', 'lib/books', 'lib/transactions'];
    const upward = localImports(join(root, 'lib/db.ts')).filter((p) => entities.some((d) => under(d)(p)) || p === 'lib/idempotency.ts');
    expect(upward).toEqual([]);
  });

  it('only lib/storage.ts imports the S3 SDK, and it never imports lib/db.ts (no S3 call while a connection is held)', () => {
    const all = [...lib, ...sources(join(root, 'functions')), ...sources(join(root, 'scripts'))];
    const s3 = all.filter((f) => /['"]@aws-sdk\/(client-s3|s3-presigned-post|s3-request-presigner)['"]/.test(readFileSync(f, 'utf8'))).map(rel);
    expect(s3).toEqual(['lib/storage.ts']);
    expect(localImports(join(root, 'lib/storage.ts'))).not.toContain('lib/db.ts');
  });
});
