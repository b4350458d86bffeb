import { z } from 'zod';
import { activityOutput, entryVersionOutput, listActivityQuery } from '../history/schema.js';
import * as out from '../openapi/responses.js';
import { ok, type Route, unauthenticated } from './route.js';

// Who changed what (issue 18): an entry's versions and a book's activity, written by the
// database's triggers and read by any active member of the book. Part of the route table
// (lib/routes/index.ts).

export const HISTORY_ROUTES = {
  getTransactionHistory: {
    method: 'GET', path: '/api/transactions/{id}/history', summary: 'Every version of a transaction, oldest first (also after its deletion)', tag: 'transactions', auth: true, database: true,
    responses: {
      200: ok('The versions, oldest first', ['TransactionHistory', z.array(entryVersionOutput)]),
      401: unauthenticated,
      404: { description: 'No such transaction, or not in a book the caller is an active member of (for a deleted one: the book of its last version)', json: ['Detail', out.detail] },
    },
  },
  listBookActivity: {
    method: 'GET', path: '/api/books/{id}/activity', summary: 'A book\'s changes (entries and membership), newest first, paginated', tag: 'books', auth: true, database: true,
    query: listActivityQuery,
    responses: {
      200: ok('A page', ['ActivityPage', out.page(activityOutput)]),
      400: { description: 'A bad filter or page value (the parameter is named)', json: ['FieldErrors', out.fieldErrors] },
      401: unauthenticated,
      404: { description: 'No such book, or the caller is not an active member of it; or a page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
} satisfies Record<string, Route>;
