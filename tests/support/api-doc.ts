import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const apiDoc = fileURLToPath(new URL('../../docs/api.md', import.meta.url));

/**
 * The routes in docs/api.md's endpoint table as "METHOD /path": a cell reads e.g.
 * `DELETE /api/books/{id}/[?force=true]` or `GET /api/transactions/?page=&…`, and the route is the
 * path before any query string or bracketed optional part, minus the trailing slash.
 */
export function documentedRoutes(markdown = readFileSync(apiDoc, 'utf8')): string[] {
  return [...markdown.matchAll(/^\| `(GET|POST|PUT|PATCH|DELETE) (\/api\/[^`\s]*)/gm)].map(
    ([, method, path]) => `${method} ${path!.replace(/[?[].*$/, '').replace(/\/$/, '')}`,
  );
}
