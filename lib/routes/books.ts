import type { z } from 'zod';
import { bookOutput, createBookBody, deleteBookQuery, patchBookBody, replaceBookBody } from '../books/schema.js';
import { pageQuery } from '../http/pagination.js';
import * as out from '../openapi/responses.js';
import { idempotencyKey, idempotent } from './idempotent.js';
import { invalid, invalidBody, notFound, ok, roleRefused, type Route, unauthenticated } from './route.js';

// The cashbooks the signed-in user is an active member of: part of the route table
// (lib/routes/index.ts). Each book carries the caller's `role`.

const book: [string, z.ZodType] = ['Book', bookOutput];

export const BOOK_ROUTES = {
  listBooks: {
    method: 'GET', path: '/api/books', summary: 'List the books the caller is a member of, oldest first (the default book first)', tag: 'books', auth: true, database: true,
    query: pageQuery,
    responses: {
      200: ok('A page', ['BookPage', out.page(bookOutput)]),
      400: invalid,
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  createBook: {
    method: 'POST', path: '/api/books', summary: 'Create a book (currency defaults to DEFAULT_CURRENCY)', tag: 'books', auth: true, database: true,
    requestHeaders: idempotencyKey,
    body: ['BookCreate', createBookBody],
    responses: idempotent('The new book', book),
  },
  getBook: {
    method: 'GET', path: '/api/books/{id}', summary: 'One book, with its balance', tag: 'books', auth: true, database: true,
    responses: { 200: ok('The book', book), 401: unauthenticated, 404: notFound },
  },
  replaceBook: {
    method: 'PUT', path: '/api/books/{id}', summary: 'Replace a book (name and currency; owners and admins)', tag: 'books', auth: true, database: true,
    body: ['BookReplace', replaceBookBody],
    responses: { 200: ok('The book', book), 400: invalidBody, 401: unauthenticated, 403: roleRefused, 404: notFound },
  },
  updateBook: {
    method: 'PATCH', path: '/api/books/{id}', summary: 'Change the name or currency of a book (owners and admins)', tag: 'books', auth: true, database: true,
    body: ['BookPatch', patchBookBody],
    responses: { 200: ok('The book', book), 400: invalidBody, 401: unauthenticated, 403: roleRefused, 404: notFound },
  },
  deleteBook: {
    method: 'DELETE', path: '/api/books/{id}', summary: 'Delete a book (its owner); with ?force=true, together with its transactions', tag: 'books', auth: true, database: true,
    query: deleteBookQuery,
    responses: {
      204: ok('Deleted'),
      400: invalid,
      401: unauthenticated,
      403: roleRefused,
      404: notFound,
      409: { description: 'The book still has transactions (without force=true), or it is the default book (never deleted)', json: ['Detail', out.detail] },
    },
  },
} satisfies Record<string, Route>;
