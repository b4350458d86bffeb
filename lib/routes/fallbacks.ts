import type { HandlerSpec } from '../http/api.js';

// Outside the API contract, so outside the OpenAPI document: another method on a known path
// (405; and CORS preflight, answered 204), and any other path (404). In a file of their own so
// that their bundles carry no route of the table.

export const FALLBACKS = {
  methodNotAllowed: { auth: false },
  notFound: { auth: false },
} satisfies Record<string, HandlerSpec>;
