import { randomUUID } from 'node:crypto';
import { insertAttachment, objectKey } from '../lib/attachments/queries.js';
import { getConfig } from '../lib/config.js';
import { withConnection } from '../lib/db.js';
import { ValidationError } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { ATTACHMENT_ROUTES } from '../lib/routes/attachments.js';
import { presignUpload } from '../lib/storage.js';

// The POST policy is signed first, with no connection held (signing is local: no S3 round trip),
// then one INSERT records the pending upload (limits checked in it). In that order a signing
// failure (no bucket: 503) leaves no pending row taking one of the entry's 10 slots and quota for
// a day, and the upload's deadline precedes the row's created_at, which the sweep relies on.
export const handler = api(ATTACHMENT_ROUTES.createAttachment, async (req) => {
  const { maxBytes, quotaBytes } = getConfig().attachments;
  if (req.body.size > maxBytes) throw new ValidationError({ size: [`Ensure this value is less than or equal to ${maxBytes}.`] });
  const id = randomUUID();
  const upload = await presignUpload({ key: objectKey(id), contentType: req.body.content_type, size: req.body.size });
  await withConnection((db) => insertAttachment(db, req.caller, req.id, id, req.body, quotaBytes), req.connection);
  return { id, upload };
});
