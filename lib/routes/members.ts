import { z } from 'zod';
import { bookOutput } from '../books/schema.js';
import { pageQuery } from '../http/pagination.js';
import { invitationOutput, inviteMemberBody, memberOutput, transferOwnershipBody, updateMemberBody } from '../members/schema.js';
import * as out from '../openapi/responses.js';
import { invalid, invalidBody, notFound, ok, roleRefused, type Route, unauthenticated } from './route.js';

// Shared books (issue 18): a book's members, the caller's invitations, handing ownership on. Part
// of the route table (lib/routes/index.ts). A book the caller is not an active member of is a
// 404 everywhere, as a missing one; a member whose role lacks the right gets the 403.

const book: [string, z.ZodType] = ['Book', bookOutput];
const member: [string, z.ZodType] = ['Member', memberOutput];
const conflict = (description: string) => ({ description, json: ['Detail', out.detail] as [string, z.ZodType] });

export const MEMBER_ROUTES = {
  listBookMembers: {
    method: 'GET', path: '/api/books/{id}/members', tag: 'members', auth: true, database: true,
    summary: 'The book\'s members and pending invitations, the owner first (owners and admins)',
    responses: { 200: ok('The members (not those who left, declined or were removed)', ['MemberList', z.array(memberOutput)]), 401: unauthenticated, 403: roleRefused, 404: notFound },
  },
  inviteBookMember: {
    method: 'POST', path: '/api/books/{id}/members', tag: 'members', auth: true, database: true,
    summary: 'Invite a user by username (admins: the owner; operators and viewers: an owner or admin); they must accept',
    body: ['MemberInvite', inviteMemberBody],
    responses: {
      201: ok('The invitation (`status: "pending"`)', member),
      400: { description: 'Invalid fields, `role: "owner"` (ownership is handed on with /transfer/), or no active user with this `username`', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
      403: roleRefused,
      404: notFound,
      409: conflict('Already a member of the book, or already invited'),
    },
  },
  updateBookMember: {
    method: 'PATCH', path: '/api/books/{id}/members/{user_id}', tag: 'members', auth: true, database: true,
    summary: 'Change a member\'s (or an invitation\'s) role (the owner)',
    body: ['MemberUpdate', updateMemberBody],
    responses: {
      200: ok('The member', member),
      400: invalidBody,
      401: unauthenticated,
      403: roleRefused,
      404: notFound,
      409: conflict('The owner\'s own role: it changes only by handing ownership on'),
    },
  },
  removeBookMember: {
    method: 'DELETE', path: '/api/books/{id}/members/{user_id}', tag: 'members', auth: true, database: true,
    summary: 'Remove a member or withdraw an invitation; with the caller\'s own id, leave the book',
    responses: {
      204: ok('Removed (or left)'),
      401: unauthenticated,
      403: roleRefused,
      404: notFound,
      409: conflict('The owner cannot leave before handing ownership on'),
    },
  },
  transferBookOwnership: {
    method: 'POST', path: '/api/books/{id}/transfer', tag: 'members', auth: true, database: true,
    summary: 'Hand ownership on to an active member (the owner); the old owner becomes an admin',
    body: ['OwnershipTransfer', transferOwnershipBody],
    responses: {
      200: ok('The book (the caller\'s `role` is now `admin`)', book),
      400: { description: 'Invalid fields, or `user_id` is not an active member of the book (other than the caller)', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
      403: roleRefused,
      404: notFound,
      409: conflict('The default book is never handed on (clients that do not name a book write to it)'),
    },
  },
  listInvitations: {
    method: 'GET', path: '/api/invitations', tag: 'members', auth: true, database: true,
    summary: 'The caller\'s pending invitations, oldest first',
    query: pageQuery,
    responses: {
      200: ok('A page', ['InvitationPage', out.page(invitationOutput)]),
      400: invalid,
      401: unauthenticated,
      404: { description: 'A page past the end ("Invalid page.")', json: ['Detail', out.detail] },
    },
  },
  acceptInvitation: {
    method: 'POST', path: '/api/invitations/{book_id}/accept', tag: 'members', auth: true, database: true,
    summary: 'Accept an invitation: the book joins the caller\'s books, lists and totals',
    responses: { 200: ok('The book, with the caller\'s role', book), 401: unauthenticated, 404: { description: 'No pending invitation to this book', json: ['Detail', out.detail] } },
  },
  declineInvitation: {
    method: 'POST', path: '/api/invitations/{book_id}/decline', tag: 'members', auth: true, database: true,
    summary: 'Decline an invitation',
    responses: { 204: ok('Declined'), 401: unauthenticated, 404: { description: 'No pending invitation to this book', json: ['Detail', out.detail] } },
  },
} satisfies Record<string, Route>;
