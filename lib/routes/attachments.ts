import { z } from 'zod';
import { attachmentOutput, createAttachmentBody, listedAttachmentOutput, uploadOutput } from '../attachments/schema.js';
import * as out from '../openapi/responses.js';
import { notFound, ok, type Reply, type Route, unauthenticated } from './route.js';

// Receipts attached to the entries of the books the signed-in user is a member of: part of the route table (lib/routes/index.ts).
// The bytes never pass through these functions: S3 takes them from the client (presigned POST).

/** 403 of a shared book (lib/books/access.ts): a member whose role lacks the right. */
const roleDenied = (what: string): Reply => ({ description: `A member whose role may not ${what} (code permission_denied; the detail names the role needed)`, json: ['DetailWithCode', out.detailWithCode] });

const storageDown: Reply = {
  description: 'The database or S3 (`"dependency": "storage"`) is busy or unavailable; retry after Retry-After seconds',
  json: ['DetailWithCode', out.detailWithCode],
  headers: ['Retry-After'],
};

export const ATTACHMENT_ROUTES = {
  createAttachment: {
    method: 'POST', path: '/api/transactions/{id}/attachments', tag: 'attachments', auth: true, database: true,
    summary: 'Start an upload: a presigned POST that S3 accepts only for this key, this Content-Type and exactly `size` bytes, for 15 minutes',
    body: ['AttachmentCreate', createAttachmentBody],
    responses: {
      201: ok('The attachment\'s id and the upload: POST `fields` then the file (as `file`) to `url` as multipart/form-data, then call /complete/', ['AttachmentUpload', uploadOutput]),
      400: { description: 'Invalid fields, a size above ATTACHMENT_MAX_BYTES or the quota (`size`), or an entry that already has 10 (`non_field_errors`)', json: ['BadRequest', out.badRequest] },
      401: unauthenticated,
      403: roleDenied('edit the entry (a viewer; an operator, on an entry someone else recorded)'),
      404: notFound,
      409: { description: 'Another upload to the same entry was recorded at the same instant: retry (Retry-After)', json: ['Detail', out.detail] },
      503: storageDown,
    },
  },
  completeAttachment: {
    method: 'POST', path: '/api/attachments/{id}/complete', tag: 'attachments', auth: true, database: true,
    summary: 'Record that the upload arrived: S3 must hold an object of the declared size and type',
    responses: {
      200: ok('The attachment, now complete (also when it already was)', ['Attachment', attachmentOutput]),
      401: unauthenticated,
      403: roleDenied('edit the entry any more (the uploader\'s role changed since the upload started)'),
      404: { description: 'Not found (also an upload someone else started, or in a book the user is not a member of)', json: ['Detail', out.detail] },
      409: {
        description: 'No object yet (upload first; the attachment stays pending), or an object whose size or type is not what was declared (the object and the attachment are deleted: start again)',
        json: ['Detail', out.detail],
      },
      503: storageDown,
    },
  },
  listAttachments: {
    method: 'GET', path: '/api/transactions/{id}/attachments', tag: 'attachments', auth: true, database: true,
    summary: 'An entry\'s attachments, oldest first, each complete one with a presigned download URL valid for 5 minutes',
    responses: {
      200: ok('The attachments (images are served inline, anything else as a download)', ['AttachmentList', z.array(listedAttachmentOutput)]),
      401: unauthenticated,
      404: notFound,
      503: storageDown,
    },
  },
  deleteAttachment: {
    method: 'DELETE', path: '/api/attachments/{id}', tag: 'attachments', auth: true, database: true,
    summary: 'Delete an attachment and its file',
    // The sweep (lib/attachments/sweep.ts) runs in this function: it deletes the files of deleted
    // entries and books, and uploads never completed.
    schedule: 'rate(15 minutes)',
    responses: { 204: ok('Deleted'), 401: unauthenticated, 403: roleDenied('edit the entry, on an attachment someone else uploaded'), 404: notFound },
  },
} satisfies Record<string, Route>;
