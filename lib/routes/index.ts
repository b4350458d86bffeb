import { ACCOUNT_ROUTES } from './accounts.js';
import { ATTACHMENT_ROUTES } from './attachments.js';
import { BOOK_ROUTES } from './books.js';
import { HISTORY_ROUTES } from './history.js';
import type { Route } from './route.js';
import { SERVICE_ROUTES } from './service.js';
import { STATEMENT_ROUTES } from './statements.js';
import { TRANSACTION_ROUTES } from './transactions.js';
import { TRANSFER_ROUTES } from './transfers.js';

// The route table: one entry per endpoint, the single source of
// - each handler's options: functions/<kebab-case name>.ts passes its entry to api(), which
//   derives whether it authenticates, the schemas it validates with, whether its path has an
//   {id}, and its success status (the lowest 2xx reply);
// - the OpenAPI document (lib/openapi/document.ts);
// - serverless.yml's `functions:` (scripts/lib/serverless-functions.ts), and the connection
//   budget's list of functions that never connect (scripts/lib/deploy.ts).
// Adding an endpoint is one entry in its tag's file, one handler file, and its tests. A handler
// imports its tag's file only, so each function's bundle carries a quarter of the table.

export const ROUTES = {
  ...ACCOUNT_ROUTES,
  ...TRANSACTION_ROUTES,
  ...BOOK_ROUTES,
  ...ATTACHMENT_ROUTES,
  ...TRANSFER_ROUTES,
  ...STATEMENT_ROUTES,
  ...HISTORY_ROUTES,
  ...SERVICE_ROUTES,
} satisfies Record<string, Route>;

export { FALLBACKS } from './fallbacks.js';
export { handlerFile, type Method, type Reply, type Route } from './route.js';
