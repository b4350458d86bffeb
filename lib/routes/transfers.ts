import type { z } from 'zod';
import * as out from '../openapi/responses.js';
import { createTransferBody, listTransfersQuery, patchTransferBody, transferOutput } from '../transfers/schema.js';
import { idempotencyKey, idempotent } from './idempotent.js';
import { notFound, ok, type Reply, type Route, unauthenticated } from './route.js';

// Transfers between books the signed-in user is a member of (visible to the members of either book): part of the route table (lib/routes/index.ts).

const transfer: [string, z.ZodType] = ['Transfer', transferOutput];

/** 403 of a shared book (lib/books/access.ts): a member whose role lacks the right. */
const roleDenied = (what: string): Reply => ({ description: `A member whose role may not ${what} (code permission_denied; the detail names the role needed)`, json: ['DetailWithCode', out.detailWithCode] });

export const TRANSFER_ROUTES = {
  listTransfers: {
    method: 'GET', path: '/api/transfers', summary: 'List transfers, newest first, paginated', tag: 'transfers', auth: true, database: true,
    query: listTransfersQuery,
    responses: {
      200: ok('A page', ['TransferPage', out.page(transferOutput)]),
      400: { description: 'A bad filter or page value, or a book that is not one of the user\'s (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  createTransfer: {
    method: 'POST', path: '/api/transfers', summary: 'Move money between two books: an expense in from_book and an income in to_book, written together', tag: 'transfers', auth: true, database: true,
    requestHeaders: idempotencyKey,
    body: ['TransferCreate', createTransferBody],
    responses: {
      ...idempotent('The new transfer', transfer),
      400: {
        description:
          'Invalid fields or malformed JSON ({"detail": …}); from_book or to_book not one of the user\'s books, or the same book; ' +
          'books of different currencies without to_amount (the field is named)',
        json: ['BadRequest', out.badRequest],
      },
      403: roleDenied('record in one of the books (a viewer)'),
    },
  },
  getTransfer: {
    method: 'GET', path: '/api/transfers/{id}', summary: 'One transfer, with both its entries', tag: 'transfers', auth: true, database: true,
    responses: { 200: ok('The transfer', transfer), 401: unauthenticated, 404: notFound },
  },
  updateTransfer: {
    method: 'PATCH', path: '/api/transfers/{id}', summary: 'Change a transfer: both entries in one statement', tag: 'transfers', auth: true, database: true,
    body: ['TransferPatch', patchTransferBody],
    responses: {
      200: ok('The transfer', transfer),
      400: { description: 'Invalid fields or malformed JSON ({"detail": …}); a change of book; to_amount unlike amount between books of one currency', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
      403: roleDenied('edit both its entries (a viewer of either book; an operator, on entries someone else recorded)'),
      404: notFound,
    },
  },
  deleteTransfer: {
    method: 'DELETE', path: '/api/transfers/{id}', summary: 'Delete a transfer: both entries', tag: 'transfers', auth: true, database: true,
    responses: { 204: ok('Deleted'), 401: unauthenticated, 403: roleDenied('delete both its entries (a viewer of either book; an operator, on entries someone else recorded)'), 404: notFound },
  },
} satisfies Record<string, Route>;
