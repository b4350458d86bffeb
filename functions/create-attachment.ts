import { randomUUID } from 'node:crypto';
import { insertAttachment, objectKey } from '../lib/attachments/queries.js';
import { getConfig } from '../lib/config.js';
import { withConnection } from '../lib/db.js';
import { ValidationError } from '../lib/errors.js';
import { api } from '../lib/http/api.js';
import { ATTACHMENT_ROUTES } from '../lib/routes/attachments.js';
import { presignUpload } from '../lib/storage.js';

// One INSERT records the pending upload (limits checked in it); the POST policy is signed after
// the connection is released (signing is local: no S3 round trip).
export const handler = api(ATTACHMENT_ROUTES.createAttachment, async (req) => {
  const { maxBytes, quotaBytes } = getConfig().attachments;
  if (req.body.size > maxBytes) throw new ValidationError({ size: [`Ensure this value is less than or equal to ${maxBytes}.`] });
  const id = randomUUID();
  await withConnection((db) => insertAttachment(db, req.caller, req.id, id, req.body, quotaBytes), req.connection);
  const upload = await presignUpload({ key: objectKey(id), contentType: req.body.content_type, size: req.body.size });
  return { id, upload };
});
