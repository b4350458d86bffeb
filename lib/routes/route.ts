import type { z } from 'zod';
import type { HandlerSpec } from '../http/api.js';
import * as out from '../openapi/responses.js';

// What a route table entry holds (lib/routes/index.ts), and the replies several routes share.

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Reply {
  description: string;
  /** Component name and schema of a JSON body. */
  json?: [string, z.ZodType];
  /** A non-JSON body (the docs page and its assets). */
  contentType?: string;
  /** The body is bytes (a PDF, a workbook), not text: the document says `format: binary`. */
  binary?: boolean;
  headers?: string[];
}

/** An endpoint: what api() needs of it (HandlerSpec), and what the document and serverless.yml need. */
export interface Route extends HandlerSpec {
  /** Opens a database connection: its 503 and 504 are documented, and it counts in the connection budget. */
  database: boolean;
  method: Method;
  path: string;
  summary: string;
  tag: 'accounts' | 'transactions' | 'books' | 'members' | 'attachments' | 'transfers' | 'statements' | 'service';
  /** Also invoked on this EventBridge schedule (serverless.yml), e.g. `rate(15 minutes)`. */
  schedule?: string;
  /** Request header parameters, as an object schema (one property per header). */
  requestHeaders?: z.ZodType;
  responses: Record<number, Reply>;
}

export const ok = (description: string, json?: [string, z.ZodType]): Reply => ({ description, ...(json ? { json } : {}) });
export const invalid: Reply = { description: 'Invalid query parameters (the parameter is named)', json: ['FieldErrors', out.fieldErrors] };
export const invalidBody: Reply = { description: 'Invalid fields, or malformed JSON ({"detail": …})', json: ['BadRequest', out.badRequest] };
export const unauthenticated: Reply = { description: 'Missing, invalid, expired or wrong-type token', json: ['DetailWithCode', out.detailWithCode], headers: ['WWW-Authenticate'] };
export const notFound: Reply = { description: 'Not found (also another user\'s object or a malformed id)', json: ['Detail', out.detail] };
/** Shared books: a member whose role lacks the right (a non-member gets the 404 instead). */
export const roleRefused: Reply = { description: 'A member of the book whose role does not allow this; the detail names the role needed (`"code": "permission_denied"`)', json: ['DetailWithCode', out.detailWithCode] };

/** functions/<kebab-case of the name>.ts: createTransaction -> create-transaction. */
export const handlerFile = (name: string): string => `functions/${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.ts`;
