import type { Context } from 'aws-lambda';
import { deleteAttachment } from '../lib/attachments/queries.js';
import { sweepAttachments } from '../lib/attachments/sweep.js';
import { withConnection } from '../lib/db.js';
import { api, type Event } from '../lib/http/api.js';
import { getLogger } from '../lib/http/log.js';
import { getConfig } from '../lib/config.js';
import { ATTACHMENT_ROUTES } from '../lib/routes/attachments.js';
import { deleteObjects } from '../lib/storage.js';

// DELETE: one statement (its trigger queues the object), then the object is deleted at once with
// the connection released; should that fail, the sweep deletes it later.
const http = api(ATTACHMENT_ROUTES.deleteAttachment, async (req) => {
  const key = await withConnection((db) => deleteAttachment(db, req.caller, req.id), req.connection);
  await deleteObjects([key]);
});

/** EventBridge's scheduled event (the route's `schedule`): one round of the sweep. */
const isSchedule = (event: unknown): boolean => (event as { source?: unknown })?.source === 'aws.events';

export const handler = async (event: Event, context: Context) => {
  if (!isSchedule(event)) return http(event, context);
  const result = await sweepAttachments();
  getLogger(getConfig()).info('attachment sweep', { ...result });
  return result;
};
