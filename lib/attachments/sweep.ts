import type { ConnectionOptions, Db } from '../db.js';
import { withConnection } from '../db.js';
import { deleteObjects, UPLOAD_TTL_SECONDS } from '../storage.js';

// The sweep: deletes from S3 the objects whose rows are gone (queued by the trigger of migration
// 1764000060000: an attachment, entry, book or user deleted), and uploads left pending for more
// than a day (row and object). It runs on a schedule (every 15 minutes, in deleteAttachment's
// function, sharing its one reserved connection), so nothing stays orphaned for long:
//   1. one statement: remove expired pending rows (their objects are queued by the trigger, and
//      returned at once), and claim a batch of keys queued at least 15 minutes ago (moving
//      retry_at an hour ahead: a sweep that dies after claiming leaves them to a later one); release;
//   2. DeleteObject each key, with no connection held (deleting a missing object succeeds);
//   3. one statement: drop the queue rows of the keys deleted. A key whose delete failed stays
//      queued and is retried an hour later.

export const SWEEP_BATCH = 1000;
export const PENDING_MAX_AGE = '1 day';
/**
 * A queued key is swept only once every presigned POST for it has expired: an upload still in
 * flight when its row was deleted (or refused by /complete/) could otherwise land after the sweep
 * and stay forever. The POST is signed before its row is inserted (functions/create-attachment.ts),
 * so it expires within UPLOAD_TTL_SECONDS of the row's created_at, hence of its queued_at; five
 * more minutes cover the clocks of Lambda (which signs) and the database (which stamps) drifting apart.
 */
const SETTLE = `${UPLOAD_TTL_SECONDS + 300} seconds`;

export async function claimDeletions(db: Db, limit = SWEEP_BATCH): Promise<string[]> {
  const { rows } = await db.query<{ object_key: string }>(
    `WITH expired AS (
       DELETE FROM attachments a
       WHERE a.id IN (SELECT id FROM attachments WHERE status = 'pending' AND created_at < now() - $2::interval ORDER BY created_at LIMIT $1)
       RETURNING a.object_key
     ), claimed AS (
       UPDATE attachment_deletions d SET retry_at = now() + interval '1 hour'
       WHERE d.object_key IN (
         SELECT object_key FROM attachment_deletions WHERE retry_at <= now() AND queued_at <= now() - $3::interval
         ORDER BY retry_at LIMIT $1 FOR UPDATE SKIP LOCKED
       )
       RETURNING d.object_key
     )
     SELECT object_key FROM claimed UNION SELECT object_key FROM expired`,
    [limit, PENDING_MAX_AGE, SETTLE],
  );
  return rows.map((r) => r.object_key);
}

export async function confirmDeletions(db: Db, keys: string[]): Promise<void> {
  await db.query('DELETE FROM attachment_deletions WHERE object_key = ANY($1::text[])', [keys]);
}

export interface SweepResult {
  claimed: number;
  deleted: number;
}

/** One round of the sweep: at most two short statements, S3 calls between them with no connection held. */
export async function sweepAttachments(connection: ConnectionOptions = {}, limit = SWEEP_BATCH): Promise<SweepResult> {
  const keys = await withConnection((db) => claimDeletions(db, limit), connection);
  const deleted = await deleteObjects(keys);
  if (deleted.length) await withConnection((db) => confirmDeletions(db, deleted), connection);
  return { claimed: keys.length, deleted: deleted.length };
}
