import { completeAttachment, objectKey } from '../lib/attachments/queries.js';
import { withConnection } from '../lib/db.js';
import { Conflict } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { ATTACHMENT_ROUTES } from '../lib/routes/attachments.js';
import { deleteObjects, headObject } from '../lib/storage.js';

// S3 first, with no connection open (the key follows from the id), then one statement that
// completes, refuses or leaves pending; a refused object is deleted after the connection closes.
export const handler = api(ATTACHMENT_ROUTES.completeAttachment, async (req) => {
  const found = await headObject(objectKey(req.id));
  const result = await withConnection((db) => completeAttachment(db, req.caller, req.id, found), req.connection);
  if (result.outcome === 'complete') return result.attachment;
  if (result.outcome === 'missing') throw new Conflict('The file has not been uploaded yet.');
  // The queue (attachment_deletions) keeps the key until the sweep confirms it, should this fail.
  await deleteObjects([result.objectKey]);
  throw new Conflict('The uploaded file is not the size or type that was declared; it was deleted. Start a new upload.');
});
