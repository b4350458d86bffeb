import { z } from 'zod';
import { refreshBody, registerBody, tokenBody, verifyBody } from '../auth/schemas.js';
import { createBookBody, deleteBookQuery, patchBookBody, replaceBookBody } from '../books/schema.js';
import { pageQuery } from '../http/pagination.js';
import { KEY_TTL_HOURS } from '../idempotency.js';
import { createTransactionBody, transactionFiltersQuery, listTransactionsQuery, patchTransactionBody, replaceTransactionBody } from '../transactions/schema.js';
import * as out from './responses.js';

// The route table of the OpenAPI document: one entry per route in serverless.yml (a test keeps
// the two in step), with the very schemas the handlers validate with.

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface Reply {
  description: string;
  /** Component name and schema of a JSON body. */
  json?: [string, z.ZodType];
  /** A non-JSON body (the docs page and its assets). */
  contentType?: string;
  headers?: string[];
}

export interface Route {
  method: Method;
  path: string;
  operationId: string;
  summary: string;
  tag: 'accounts' | 'transactions' | 'books' | 'service';
  auth: boolean;
  body?: [string, z.ZodType];
  query?: z.ZodType;
  /** Request header parameters, as an object schema (one property per header). */
  requestHeaders?: z.ZodType;
  responses: Record<number, Reply>;
}

const ok = (description: string, json?: [string, z.ZodType]): Reply => ({ description, ...(json ? { json } : {}) });
const invalid: Reply = { description: 'Invalid query parameters (the parameter is named)', json: ['FieldErrors', out.fieldErrors] };
const invalidBody: Reply = { description: 'Invalid fields, or malformed JSON ({"detail": …})', json: ['BadRequest', out.badRequest] };
const unauthenticated: Reply = { description: 'Missing, invalid, expired or wrong-type token', json: ['DetailWithCode', out.detailWithCode], headers: ['WWW-Authenticate'] };
const notFound: Reply = { description: 'Not found (also another user\'s object or a malformed id)', json: ['Detail', out.detail] };
const transaction: [string, z.ZodType] = ['Transaction', out.transaction];
const book: [string, z.ZodType] = ['Book', out.book];

/** The validation of lib/idempotency.ts (parseIdempotencyKey), as a schema for the document. */
const idempotencyKey = z.object({
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
const idempotent = (description: string, json: [string, z.ZodType]): Record<number, Reply> => ({
  201: { description: `${description}; a replay (same Idempotency-Key, same request) answers the first response byte for byte, with Idempotent-Replayed: true`, json, headers: ['Idempotent-Replayed'] },
  400: { description: 'Invalid fields, malformed JSON or a malformed Idempotency-Key ({"detail": …})', json: ['BadRequest', out.badRequest] },
  401: unauthenticated,
  409: { description: 'A request with this Idempotency-Key is still being processed; retry after Retry-After seconds', json: ['Detail', out.detail], headers: ['Retry-After'] },
  422: { description: 'This Idempotency-Key was already used with a different request (body or endpoint)', json: ['Detail', out.detail] },
});

export const ROUTES: Route[] = [
  {
    method: 'POST', path: '/api/register', operationId: 'register', summary: 'Create an account', tag: 'accounts', auth: false,
    body: ['RegisterRequest', registerBody],
    responses: {
      201: ok('The new user', ['User', out.user]),
      400: invalidBody,
      429: { description: 'Too many registrations from this source; retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  {
    method: 'POST', path: '/api/token', operationId: 'obtainToken', summary: 'Log in: obtain an access and a refresh token', tag: 'accounts', auth: false,
    body: ['TokenRequest', tokenBody],
    responses: {
      200: ok('Tokens', ['TokenPair', out.tokenPair]),
      400: invalidBody,
      401: { description: 'Wrong username or password (the same answer for both)', json: ['Detail', out.detail] },
      429: { description: 'Too many failed logins (for this username from this source, from this source, or for this username from unknown sources); retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  {
    method: 'POST', path: '/api/token/refresh', operationId: 'refreshToken', summary: 'A new access token from a refresh token', tag: 'accounts', auth: false,
    body: ['RefreshRequest', refreshBody],
    responses: { 200: ok('A new access token (and refresh token when rotating)', ['AccessToken', out.accessToken]), 400: invalidBody, 401: unauthenticated },
  },
  {
    method: 'POST', path: '/api/token/verify', operationId: 'verifyToken', summary: 'Check a token', tag: 'accounts', auth: false,
    body: ['VerifyRequest', verifyBody],
    responses: { 200: ok('Valid', ['Empty', out.empty]), 400: invalidBody, 401: unauthenticated },
  },
  {
    method: 'GET', path: '/api/me', operationId: 'getMe', summary: 'The current user', tag: 'accounts', auth: true,
    responses: { 200: ok('The user', ['User', out.user]), 401: unauthenticated },
  },
  {
    method: 'GET', path: '/api/transactions', operationId: 'listTransactions', summary: 'List transactions: filtered, ordered (default -date,-created_at), paginated, each with its running balance', tag: 'transactions', auth: true,
    query: listTransactionsQuery,
    responses: {
      200: ok('A page; each result also has balance_after', ['TransactionPage', out.transactionPage]),
      400: { description: 'A bad filter, ordering or page value, or a book that is not one of the user\'s (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  {
    method: 'POST', path: '/api/transactions', operationId: 'createTransaction', summary: 'Record a transaction (in the default book unless `book` is given)', tag: 'transactions', auth: true,
    requestHeaders: idempotencyKey,
    body: ['TransactionCreate', createTransactionBody],
    responses: idempotent('The new transaction', transaction),
  },
  {
    method: 'GET', path: '/api/transactions/summary', operationId: 'getTransactionSummary', summary: 'Totals, per category and per month, of the filtered transactions', tag: 'transactions', auth: true,
    query: transactionFiltersQuery,
    responses: {
      200: ok('The summary', ['Summary', out.summary]),
      400: { description: 'A bad filter value, or a book that is not one of the user\'s (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
    },
  },
  {
    method: 'GET', path: '/api/transactions/export', operationId: 'exportTransactions', summary: 'The filtered, ordered transactions as CSV (at most 10,000 rows or 5 MB)', tag: 'transactions', auth: true,
    query: transactionFiltersQuery,
    responses: {
      200: {
        description:
          'text/csv; charset=utf-8, sent as attachment "transactions.csv": a header row ' +
          'id,date,book,type,amount,balance_after,category,description,payment_mode,created_at,updated_at (book is the book\'s name), CRLF line ends, RFC 4180 quoting',
        contentType: 'text/csv',
        headers: ['Content-Disposition'],
      },
      400: { description: 'A bad filter value (field errors), or more than 10,000 rows or 5 MB ({"detail": …}: narrow the filters)', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
    },
  },
  {
    method: 'GET', path: '/api/transactions/{id}', operationId: 'getTransaction', summary: 'One transaction', tag: 'transactions', auth: true,
    responses: { 200: ok('The transaction', transaction), 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PUT', path: '/api/transactions/{id}', operationId: 'replaceTransaction', summary: 'Replace a transaction (all writable fields)', tag: 'transactions', auth: true,
    body: ['TransactionReplace', replaceTransactionBody],
    responses: { 200: ok('The transaction', transaction), 400: invalidBody, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PATCH', path: '/api/transactions/{id}', operationId: 'updateTransaction', summary: 'Change some fields of a transaction', tag: 'transactions', auth: true,
    body: ['TransactionPatch', patchTransactionBody],
    responses: { 200: ok('The transaction', transaction), 400: invalidBody, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'DELETE', path: '/api/transactions/{id}', operationId: 'deleteTransaction', summary: 'Delete a transaction', tag: 'transactions', auth: true,
    responses: { 204: ok('Deleted'), 401: unauthenticated, 404: notFound },
  },
  {
    method: 'GET', path: '/api/books', operationId: 'listBooks', summary: 'List books, oldest first (the default book first)', tag: 'books', auth: true,
    query: pageQuery,
    responses: {
      200: ok('A page', ['BookPage', out.bookPage]),
      400: invalid,
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  {
    method: 'POST', path: '/api/books', operationId: 'createBook', summary: 'Create a book (currency defaults to DEFAULT_CURRENCY)', tag: 'books', auth: true,
    requestHeaders: idempotencyKey,
    body: ['BookCreate', createBookBody],
    responses: idempotent('The new book', book),
  },
  {
    method: 'GET', path: '/api/books/{id}', operationId: 'getBook', summary: 'One book, with its balance', tag: 'books', auth: true,
    responses: { 200: ok('The book', book), 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PUT', path: '/api/books/{id}', operationId: 'replaceBook', summary: 'Replace a book (name and currency)', tag: 'books', auth: true,
    body: ['BookReplace', replaceBookBody],
    responses: { 200: ok('The book', book), 400: invalidBody, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PATCH', path: '/api/books/{id}', operationId: 'updateBook', summary: 'Change the name or currency of a book', tag: 'books', auth: true,
    body: ['BookPatch', patchBookBody],
    responses: { 200: ok('The book', book), 400: invalidBody, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'DELETE', path: '/api/books/{id}', operationId: 'deleteBook', summary: 'Delete a book; with ?force=true, together with its transactions', tag: 'books', auth: true,
    query: deleteBookQuery,
    responses: {
      204: ok('Deleted'),
      400: invalid,
      401: unauthenticated,
      404: notFound,
      409: { description: 'The book still has transactions (without force=true), or it is the default book (never deleted)', json: ['Detail', out.detail] },
    },
  },
  {
    method: 'GET', path: '/api/health', operationId: 'getHealth', summary: 'Liveness, including one database round trip', tag: 'service', auth: false,
    responses: { 200: ok('Healthy', ['Health', out.health]) },
  },
  {
    method: 'GET', path: '/api/openapi.json', operationId: 'getOpenApi', summary: 'This document', tag: 'service', auth: false,
    responses: { 200: { description: 'OpenAPI 3.1 document', contentType: 'application/json' } },
  },
  {
    method: 'GET', path: '/api/docs', operationId: 'getDocs', summary: 'Interactive documentation (Swagger UI)', tag: 'service', auth: false,
    responses: { 200: { description: 'HTML page', contentType: 'text/html' } },
  },
  {
    method: 'GET', path: '/api/docs/{file}', operationId: 'getDocsAsset', summary: 'Script and style files of the docs page', tag: 'service', auth: false,
    responses: { 200: { description: 'A static file', contentType: 'application/octet-stream' }, 404: notFound },
  },
];
