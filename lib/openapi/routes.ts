import type { z } from 'zod';
import { refreshBody, registerBody, tokenBody, verifyBody } from '../auth/schemas.js';
import { createBody, listQuery, patchBody, replaceBody } from '../transactions/schema.js';
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
  tag: 'accounts' | 'transactions' | 'service';
  auth: boolean;
  body?: [string, z.ZodType];
  query?: z.ZodType;
  responses: Record<number, Reply>;
}

const ok = (description: string, json?: [string, z.ZodType]): Reply => ({ description, ...(json ? { json } : {}) });
const invalid: Reply = { description: 'Invalid fields, malformed JSON', json: ['FieldErrors', out.fieldErrors] };
const unauthenticated: Reply = { description: 'Missing, invalid, expired or wrong-type token', json: ['DetailWithCode', out.detailWithCode], headers: ['WWW-Authenticate'] };
const notFound: Reply = { description: 'Not found (also another user\'s object or a malformed id)', json: ['Detail', out.detail] };
const transaction: [string, z.ZodType] = ['Transaction', out.transaction];

export const ROUTES: Route[] = [
  {
    method: 'POST', path: '/api/register', operationId: 'register', summary: 'Create an account', tag: 'accounts', auth: false,
    body: ['RegisterRequest', registerBody],
    responses: { 201: ok('The new user', ['User', out.user]), 400: invalid },
  },
  {
    method: 'POST', path: '/api/token', operationId: 'obtainToken', summary: 'Log in: obtain an access and a refresh token', tag: 'accounts', auth: false,
    body: ['TokenRequest', tokenBody],
    responses: {
      200: ok('Tokens', ['TokenPair', out.tokenPair]),
      400: invalid,
      401: { description: 'Wrong username or password (the same answer for both)', json: ['Detail', out.detail] },
      429: { description: 'Too many failed logins for this username; retry after Retry-After seconds', json: ['DetailWithCode', out.detailWithCode], headers: ['Retry-After'] },
    },
  },
  {
    method: 'POST', path: '/api/token/refresh', operationId: 'refreshToken', summary: 'A new access token from a refresh token', tag: 'accounts', auth: false,
    body: ['RefreshRequest', refreshBody],
    responses: { 200: ok('A new access token (and refresh token when rotating)', ['AccessToken', out.accessToken]), 400: invalid, 401: unauthenticated },
  },
  {
    method: 'POST', path: '/api/token/verify', operationId: 'verifyToken', summary: 'Check a token', tag: 'accounts', auth: false,
    body: ['VerifyRequest', verifyBody],
    responses: { 200: ok('Valid', ['Empty', out.empty]), 400: invalid, 401: unauthenticated },
  },
  {
    method: 'GET', path: '/api/me', operationId: 'getMe', summary: 'The current user', tag: 'accounts', auth: true,
    responses: { 200: ok('The user', ['User', out.user]), 401: unauthenticated },
  },
  {
    method: 'GET', path: '/api/transactions', operationId: 'listTransactions', summary: 'List transactions, newest first', tag: 'transactions', auth: true,
    query: listQuery,
    responses: { 200: ok('A page', ['TransactionPage', out.transactionPage]), 400: invalid, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'POST', path: '/api/transactions', operationId: 'createTransaction', summary: 'Record a transaction', tag: 'transactions', auth: true,
    body: ['TransactionCreate', createBody],
    responses: { 201: ok('The new transaction', transaction), 400: invalid, 401: unauthenticated },
  },
  {
    method: 'GET', path: '/api/transactions/{id}', operationId: 'getTransaction', summary: 'One transaction', tag: 'transactions', auth: true,
    responses: { 200: ok('The transaction', transaction), 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PUT', path: '/api/transactions/{id}', operationId: 'replaceTransaction', summary: 'Replace a transaction (all writable fields)', tag: 'transactions', auth: true,
    body: ['TransactionReplace', replaceBody],
    responses: { 200: ok('The transaction', transaction), 400: invalid, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'PATCH', path: '/api/transactions/{id}', operationId: 'updateTransaction', summary: 'Change some fields of a transaction', tag: 'transactions', auth: true,
    body: ['TransactionPatch', patchBody],
    responses: { 200: ok('The transaction', transaction), 400: invalid, 401: unauthenticated, 404: notFound },
  },
  {
    method: 'DELETE', path: '/api/transactions/{id}', operationId: 'deleteTransaction', summary: 'Delete a transaction', tag: 'transactions', auth: true,
    responses: { 204: ok('Deleted'), 401: unauthenticated, 404: notFound },
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
