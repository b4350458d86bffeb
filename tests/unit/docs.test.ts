import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/routes/index.js';
import { documentedRoutes } from '../support/api-doc.js';

// The docs keep up with the code: every variable the functions read has a row in
// docs/configuration.md, docs/api.md lists exactly the routes served, and no relative link in the
// Markdown is broken (a moved section breaks links silently otherwise).

/** The route table as "METHOD /path" strings: the one line to re-point when the table changes. */
const routes = Object.values(ROUTES).map((r) => `${r.method} ${r.path}`);

const root = fileURLToPath(new URL('../..', import.meta.url));
const read = (path: string) => readFileSync(join(root, path), 'utf8');
const markdownFiles = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** Names lib/config.ts reads: its schema's keys, and any `env.X`, `process.env['X']` or `env('X')`. */
function envNames(source: string): string[] {
  const patterns = [
    /^\s*([A-Z][A-Z0-9_]*)\s*:/gm,
    /\benv\.([A-Z][A-Z0-9_]*)\b/g,
    /\benv\[\s*['"]([A-Z][A-Z0-9_]*)['"]\s*\]/g,
    /\benv\(\s*['"]([A-Z][A-Z0-9_]*)['"]/g,
  ];
  return [...new Set(patterns.flatMap((p) => [...source.matchAll(p)].map((m) => m[1]!)))].sort();
}

/** Backticked names in the first cell of each table row: `| `A`, `B` | default | meaning |`. */
function documentedVariables(markdown: string): Set<string> {
  const firstCells = [...markdown.matchAll(/^\|([^|\n]*)\|/gm)].map((m) => m[1]!);
  return new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1]!)));
}

/** Code (fenced and inline) holds text like `[?force=true]` and `# comments` that are not Markdown. */
const withoutCode = (markdown: string) => markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/`[^`\n]*`/g, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const headings = [...markdown.replace(/^```[\s\S]*?^```/gm, '').matchAll(/^#{1,6}\s+(.+?)\s*#*$/gm)].map((m) => m[1]!);
  return new Set(
    headings.map((heading) => {
      const slug = heading.toLowerCase().replace(/[^\p{L}\p{N}\s_-]/gu, '').replace(/\s/g, '-');
      const n = seen.get(slug) ?? 0;
      seen.set(slug, n + 1);
      return n ? `${slug}-${n}` : slug;
    }),
  );
}

/** Relative link targets that do not resolve: "file → target (why)". */
function brokenLinks(file: string): string[] {
  const targets = [...withoutCode(read(file)).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
  return targets
    .filter((t) => !/^[a-z][a-z+.-]*:/i.test(t))
    .flatMap((target) => {
      const [path, anchor] = target.split('#') as [string, string | undefined];
      const resolved = path ? relative(root, join(root, dirname(file), path)) : file;
      if (resolved.startsWith('..') || !existsSync(join(root, resolved))) return [`${file} → ${target} (no such file)`];
      if (anchor && resolved.endsWith('.md') && !anchors(read(resolved)).has(anchor)) {
        return [`${file} → ${target} (no such heading)`];
      }
      return [];
    });
}

describe('docs', () => {
  it('documents every environment variable lib/config.ts reads in docs/configuration.md', () => {
    const names = envNames(read('lib/config.ts'));
    expect(names).toContain('DATABASE_URL');
    expect(names.length).toBeGreaterThan(30);
    const documented = documentedVariables(read('docs/configuration.md'));
    expect(names.filter((n) => !documented.has(n))).toEqual([]);
  });

  it('lists in docs/api.md exactly the routes of the route table', () => {
    expect(routes.length).toBeGreaterThan(10);
    const documented = documentedRoutes(read('docs/api.md'));
    expect(routes.filter((r) => !documented.includes(r)), 'missing from docs/api.md').toEqual([]);
    expect(documented.filter((r) => !routes.includes(r)), 'in docs/api.md but not served').toEqual([]);
  });

  it('has no broken relative link in README.md or docs/*.md', () => {
    expect(markdownFiles).toContain('docs/api.md');
    expect(markdownFiles.flatMap(brokenLinks)).toEqual([]);
  });
});
