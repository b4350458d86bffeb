import type { z } from 'zod';
import {
  createTransactionBody,
  listedTransactionOutput,
  listTransactionsQuery,
  patchTransactionBody,
  replaceTransactionBody,
  transactionFiltersQuery,
  transactionOutput,
  transactionSummaryOutput,
} from '../transactions/schema.js';
import * as out from '../openapi/responses.js';
import { idempotencyKey, idempotent } from './idempotent.js';
import { invalidBody, notFound, ok, type Reply, type Route, unauthenticated } from './route.js';

// The entries of the books the signed-in user is a member of: part of the route table (lib/routes/index.ts).

const transaction: [string, z.ZodType] = ['Transaction', transactionOutput];

/** 403 of a shared book (lib/books/access.ts): a member whose role lacks the right. */
const roleDenied = (what: string): Reply => ({ description: `A member of the book whose role may not ${what} (code permission_denied; the detail names the role needed)`, json: ['DetailWithCode', out.detailWithCode] });

export const TRANSACTION_ROUTES = {
  listTransactions: {
    method: 'GET', path: '/api/transactions', summary: 'List transactions: filtered, ordered (default -date,-created_at), paginated, each with its running balance', tag: 'transactions', auth: true, database: true,
    query: listTransactionsQuery,
    responses: {
      200: ok('A page; each result also has balance_after', ['TransactionPage', out.page(listedTransactionOutput)]),
      400: { description: 'A bad filter, ordering or page value, or a book that is not one of the user\'s (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  createTransaction: {
    method: 'POST', path: '/api/transactions', summary: 'Record a transaction (in the default book unless `book` is given)', tag: 'transactions', auth: true, database: true,
    requestHeaders: idempotencyKey,
    body: ['TransactionCreate', createTransactionBody],
    responses: { ...idempotent('The new transaction', transaction), 403: roleDenied('add entries (a viewer)') },
  },
  // Static segments: API Gateway (and serverless-offline) prefer them to /api/transactions/{id}.
  getTransactionSummary: {
    method: 'GET', path: '/api/transactions/summary', summary: 'Totals, per category and per month, of the filtered transactions', tag: 'transactions', auth: true, database: true,
    query: transactionFiltersQuery,
    responses: {
      200: ok('The summary', ['Summary', transactionSummaryOutput]),
      400: { description: 'A bad filter value, or a book that is not one of the user\'s (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
    },
  },
  exportTransactions: {
    method: 'GET', path: '/api/transactions/export', summary: 'The filtered, ordered transactions as CSV (at most 10,000 rows or 5 MB)', tag: 'transactions', auth: true, database: true,
    query: transactionFiltersQuery,
    responses: {
      200: {
        description:
          'text/csv; charset=utf-8, sent as attachment "transactions.csv": a header row ' +
          'id,date,book,type,amount,balance_after,category,description,payment_mode,created_at,updated_at,transfer,created_by,updated_by (book is the book\'s name; transfer is empty for an ordinary entry; created_by and updated_by are usernames, empty for a deleted account), CRLF line ends, RFC 4180 quoting',
        contentType: 'text/csv',
        headers: ['Content-Disposition'],
      },
      400: { description: 'A bad filter value (field errors), or more than 10,000 rows or 5 MB ({"detail": …}: narrow the filters)', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
    },
  },
  getTransaction: {
    method: 'GET', path: '/api/transactions/{id}', summary: 'One transaction', tag: 'transactions', auth: true, database: true,
    responses: { 200: ok('The transaction', transaction), 401: unauthenticated, 404: notFound },
  },
  replaceTransaction: {
    method: 'PUT', path: '/api/transactions/{id}', summary: 'Replace a transaction (all writable fields)', tag: 'transactions', auth: true, database: true,
    body: ['TransactionReplace', replaceTransactionBody],
    responses: { 200: ok('The transaction', transaction), 400: invalidBody, 401: unauthenticated, 403: roleDenied('edit this entry (a viewer; an operator, on an entry someone else recorded)'), 404: notFound },
  },
  updateTransaction: {
    method: 'PATCH', path: '/api/transactions/{id}', summary: 'Change some fields of a transaction', tag: 'transactions', auth: true, database: true,
    body: ['TransactionPatch', patchTransactionBody],
    responses: { 200: ok('The transaction', transaction), 400: invalidBody, 401: unauthenticated, 403: roleDenied('edit this entry (a viewer; an operator, on an entry someone else recorded)'), 404: notFound },
  },
  deleteTransaction: {
    method: 'DELETE', path: '/api/transactions/{id}', summary: 'Delete a transaction', tag: 'transactions', auth: true, database: true,
    responses: { 204: ok('Deleted'), 401: unauthenticated, 403: roleDenied('delete this entry (a viewer; an operator, on an entry someone else recorded)'), 404: notFound },
  },
} satisfies Record<string, Route>;
