import { z } from 'zod';
import type { Csp } from '../http/headers.js';
import { KEY_TTL_HOURS } from '../idempotency.js';
import * as out from '../openapi/responses.js';

// What a route table entry holds (lib/routes/index.ts), and the replies several routes share.

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Reply {
  description: string;
  /** Component name and schema of a JSON body. */
  json?: [string, z.ZodType];
  /** A non-JSON body (the docs page and its assets). */
  contentType?: string;
  headers?: string[];
}

/** What api() needs of a route (lib/http/api.ts); the fallbacks below have only this. */
export interface HandlerSpec {
  /** Require a valid access token. */
  auth: boolean;
  /** Without it, `POST /api/x`, the idempotency scope. */
  method?: Method;
  /** An {id} segment must be a UUID (else 404). */
  path?: string;
  /** Component name and schema of the JSON body. */
  body?: [string, z.ZodType];
  query?: z.ZodType;
  /** The lowest 2xx is the success status (204 sends no body); 200 without. */
  responses?: Record<number, Reply>;
  /** Content-Security-Policy for an HTML response (the docs page). */
  csp?: Csp;
}

export interface Route extends HandlerSpec {
  /** Opens a database connection: its 503 and 504 are documented, and it counts in the connection budget. */
  database: boolean;
  method: Method;
  path: string;
  summary: string;
  tag: 'accounts' | 'transactions' | 'books' | 'service';
  /** Request header parameters, as an object schema (one property per header). */
  requestHeaders?: z.ZodType;
  responses: Record<number, Reply>;
}

export const ok = (description: string, json?: [string, z.ZodType]): Reply => ({ description, ...(json ? { json } : {}) });
export const invalid: Reply = { description: 'Invalid query parameters (the parameter is named)', json: ['FieldErrors', out.fieldErrors] };
export const invalidBody: Reply = { description: 'Invalid fields, or malformed JSON ({"detail": …})', json: ['BadRequest', out.badRequest] };
export const unauthenticated: Reply = { description: 'Missing, invalid, expired or wrong-type token', json: ['DetailWithCode', out.detailWithCode], headers: ['WWW-Authenticate'] };
export const notFound: Reply = { description: 'Not found (also another user\'s object or a malformed id)', json: ['Detail', out.detail] };

/** The validation of lib/idempotency.ts (parseIdempotencyKey), as a schema for the document. */
export const idempotencyKey = z.object({
  'Idempotency-Key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]{1,255}$/)
    .optional()
    .meta({
      description:
        `Optional, 1 to 255 printable ASCII characters without spaces; kept per user for ${KEY_TTL_HOURS} hours. ` +
        'A retry with the same key and the same request replays the first response (with Idempotent-Replayed: true) ' +
        'instead of creating a second object.',
    }),
});
/** The replies of a POST honouring Idempotency-Key (lib/http/idempotent.ts). */
export const idempotent = (description: string, json: [string, z.ZodType]): Record<number, Reply> => ({
  201: { description: `${description}; a replay (same Idempotency-Key, same request) answers the first response byte for byte, with Idempotent-Replayed: true`, json, headers: ['Idempotent-Replayed'] },
  400: { description: 'Invalid fields, malformed JSON or a malformed Idempotency-Key ({"detail": …})', json: ['BadRequest', out.badRequest] },
  401: unauthenticated,
  409: { description: 'A request with this Idempotency-Key is still being processed; retry after Retry-After seconds', json: ['Detail', out.detail], headers: ['Retry-After'] },
  422: { description: 'This Idempotency-Key was already used with a different request (body or endpoint)', json: ['Detail', out.detail] },
});


/** The success status: the lowest 2xx reply. */
export function successStatus(spec: HandlerSpec): number {
  const statuses = Object.keys(spec.responses ?? {}).map(Number).filter((s) => s >= 200 && s < 300);
  return statuses.length ? Math.min(...statuses) : 200;
}

/** functions/<kebab-case of the name>.ts: createTransaction -> create-transaction. */
export const handlerFile = (name: string): string => `functions/${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ts`;
