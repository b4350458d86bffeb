import { listAttachments } from '../lib/attachments/queries.js';
import { isImage } from '../lib/attachments/schema.js';
import { withConnection } from '../lib/db.js';
import { api } from '../lib/http/api.js';
import { ATTACHMENT_ROUTES } from '../lib/routes/attachments.js';
import { presignDownloads } from '../lib/storage.js';

// One SELECT, then the download URLs are signed with the connection released.
export const handler = api(ATTACHMENT_ROUTES.listAttachments, async (req) => {
  const rows = await withConnection((db) => listAttachments(db, req.caller, req.id), req.connection);
  const complete = rows.filter((r) => r.status === 'complete');
  const urls = await presignDownloads(
    complete.map((r) => ({ key: r.object_key, filename: r.filename, contentType: r.content_type, inline: isImage(r.content_type) })),
  );
  const byId = new Map(complete.map((r, i) => [r.id, urls[i]!]));
  return rows.map(({ object_key: _k, ...row }) => ({ ...row, url: byId.get(row.id)?.url ?? null, url_expires_at: byId.get(row.id)?.expires_at ?? null }));
});
