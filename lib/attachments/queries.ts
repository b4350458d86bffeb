import type { z } from 'zod';
import { activeUser, type Caller } from '../auth/active-user.js';
import { errorCode, type Db } from '../db.js';
import { mayEditEntry, memberBooks, memberRole, notYourEntry, roleRequired } from '../books/access.js';
import { Conflict, NotFound, ValidationError } from '../errors.js';
import { isoTimestamp, selectList } from '../sql.js';
import { attachmentOutput, MAX_PER_ENTRY, type CreateAttachmentInput } from './schema.js';

// Data access for receipts: one statement per request, scoped to the caller's memberships of
// shared books (lib/books/access.ts): an entry or attachment in a book the caller is not an
// active member of is a 404, as a missing one. Every member sees an entry's receipts; uploading
// needs the right to edit the entry (owner, admin, or the operator who recorded it), and so does
// deleting, except for the uploader's own. attachments.user_id is the entry's account (its
// cascade when that user is deleted); created_by is the uploader, whose quota it counts against.
// No S3 call happens here: the handlers call lib/storage.ts before or after, with no connection held.

export type Attachment = z.output<typeof attachmentOutput>;
/** A row with what the handler needs besides what the client sees. */
export type StoredAttachment = Attachment & { object_key: string };

const columns = selectList(attachmentOutput, {
  id: (a) => `${a}.id`,
  transaction: (a) => `${a}.transaction_id`,
  filename: (a) => `${a}.filename`,
  content_type: (a) => `${a}.content_type`,
  size: (a) => `${a}.size::float8`,
  status: (a) => `${a}.status`,
  created_at: (a) => isoTimestamp(`${a}.created_at`),
  created_by: (a) => `${a}.created_by::float8`,
});

/**
 * The object's key: random (the attachment's random id), never derived from the file name.
 * Derivable from the id, so /complete/ can ask S3 about the object before it connects.
 */
export const objectKey = (id: string) => `attachments/${id.toLowerCase()}`;

export const tooMany = () => new ValidationError({ non_field_errors: [`An entry can have at most ${MAX_PER_ENTRY} attachments.`] });
export const overQuota = (quota: number) =>
  new ValidationError({ size: [`Your attachments would exceed your storage quota of ${quota} bytes.`] });

/**
 * The entry `id` (an expression) when it is in a book member $2 belongs to, with the member's role and whether
 * it may edit the entry (hence attach receipts to it, or delete them).
 */
const entryOf = (id: string) => `SELECT e.id, e.user_id, e.role, COALESCE(${mayEditEntry('e.role', 'e', '$2')}, false) AS may_edit
         FROM (SELECT t.*, ${memberRole('t.book_id', '$2')} AS role FROM transactions t WHERE t.id = ${id} AND t.book_id IN ${memberBooks('$2')}) AS e`;

/** 403 for a member who may not change the entry's receipts: a viewer, or an operator on someone else's entry. */
const mayNotChange = (role: string, action: 'attach' | 'delete') =>
  role === 'viewer'
    ? roleRequired('record', action === 'attach' ? 'attach receipts' : 'delete receipts')
    : notYourEntry(action === 'attach' ? 'attach receipts to' : 'delete the receipts of');

/**
 * One INSERT ... SELECT: the caller must be allowed to edit the entry; it takes the entry's lowest free slot
 * (1-10; the unique (transaction_id, slot) makes the limit hold under concurrency) and counts the
 * uploader's bytes against the quota. Pending uploads count too: they hold their place.
 */
export async function insertAttachment(
  db: Db,
  user: Caller,
  transactionId: string,
  id: string,
  input: CreateAttachmentInput,
  quotaBytes: number,
): Promise<Attachment> {
  let rows: Array<Partial<Attachment> & { found: boolean; role: string | null; may_edit: boolean | null; slot: number | null; used: string }>;
  try {
    ({ rows } = await db.query(
      `WITH entry AS (${entryOf('$1')}), free AS (
         SELECT min(s) AS slot FROM generate_series(1, ${MAX_PER_ENTRY}) s
         WHERE NOT EXISTS (SELECT 1 FROM attachments a WHERE a.transaction_id = $1 AND a.slot = s)
       ), used AS (
         SELECT COALESCE(sum(a.size), 0) AS bytes FROM attachments a WHERE a.created_by = $2
       ), ins AS (
         INSERT INTO attachments AS a (id, transaction_id, user_id, created_by, filename, content_type, size, slot, object_key)
         SELECT $3, entry.id, entry.user_id, $2, $4, $5, $6::bigint, free.slot, $7
         FROM entry, free, used WHERE entry.may_edit AND free.slot IS NOT NULL AND used.bytes + $6::bigint <= $8::bigint
         RETURNING ${columns('a')}
       )
       SELECT EXISTS (SELECT 1 FROM entry) AS found, (SELECT role FROM entry), (SELECT may_edit FROM entry), (SELECT slot FROM free) AS slot, (SELECT bytes::text FROM used) AS used, ins.*
       FROM (VALUES (1)) one LEFT JOIN ins ON true
       WHERE ${activeUser('$2', '$9')}`,
      [transactionId, user.id, id, input.filename, input.content_type, input.size, objectKey(id), quotaBytes, user.issuedAt],
    ));
  } catch (err) {
    // Another upload to the same entry took the same free slot at the same instant.
    if (errorCode(err) === '23505') throw new Conflict('Another upload to this entry is being recorded. Please retry.', 1);
    throw err;
  }
  const row = rows[0]!;
  if (!row.found) throw new NotFound();
  if (!row.may_edit) throw mayNotChange(row.role!, 'attach');
  if (row.slot === null) throw tooMany();
  if (!row.id) throw overQuota(quotaBytes);
  const { found: _f, role: _r, may_edit: _m, slot: _s, used: _u, ...attachment } = row;
  return attachment as Attachment;
}

/** What S3 said of the object at /complete/: undefined when there is none. */
export interface Found {
  size: number;
  contentType: string | undefined;
}

export type Completion =
  | { outcome: 'complete'; attachment: Attachment }
  | { outcome: 'missing' }
  | { outcome: 'mismatch'; objectKey: string };

/**
 * One statement, by the uploader while they may still edit the entry: a pending attachment whose object matches what was declared becomes complete;
 * one whose object does not is deleted (the trigger queues its object, and the handler deletes
 * it at once); one with no object yet stays pending. A complete one is answered as it is.
 */
export async function completeAttachment(db: Db, user: Caller, id: string, found: Found | undefined): Promise<Completion> {
  const { rows } = await db.query<Attachment & { object_key: string; matches: boolean | null; completed: boolean; refused: boolean; role: string; may_edit: boolean }>(
    `WITH target AS (
       SELECT a.*, entry.role, entry.may_edit, ($3::bigint = a.size AND $4::text IS NOT DISTINCT FROM a.content_type) AS matches
       FROM attachments a CROSS JOIN LATERAL (${entryOf('a.transaction_id')}) AS entry
       WHERE a.id = $1 AND a.created_by = $2
     ), done AS (
       UPDATE attachments a SET status = 'complete', completed_at = now() FROM target
       WHERE a.id = target.id AND target.may_edit AND target.status = 'pending' AND target.matches RETURNING a.id
     ), refused AS (
       DELETE FROM attachments a USING target
       WHERE a.id = target.id AND target.may_edit AND target.status = 'pending' AND $3::bigint IS NOT NULL AND NOT target.matches RETURNING a.id
     )
     SELECT ${columns('target', { status: `CASE WHEN EXISTS (SELECT 1 FROM done) THEN 'complete' ELSE target.status END` })},
            target.object_key, target.matches, EXISTS (SELECT 1 FROM refused) AS refused, target.role, target.may_edit
     FROM target WHERE ${activeUser('$2', '$5')}`,
    [id, user.id, found ? found.size : null, found ? (found.contentType ?? '') : null, user.issuedAt],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (!row.may_edit) throw mayNotChange(row.role, 'attach');
  const { object_key, matches: _m, refused, completed: _c, role: _r, may_edit: _e, ...attachment } = row;
  if (refused) return { outcome: 'mismatch', objectKey: object_key };
  if (attachment.status === 'complete') return { outcome: 'complete', attachment };
  return { outcome: 'missing' };
}

/** An entry's attachments, oldest first; 404 when the caller is not a member of the entry's book. */
export async function listAttachments(db: Db, user: Caller, transactionId: string): Promise<StoredAttachment[]> {
  const { rows } = await db.query<StoredAttachment & { found: boolean }>(
    `WITH entry AS (SELECT t.id FROM transactions t WHERE t.id = $1 AND t.book_id IN ${memberBooks('$2')})
     SELECT EXISTS (SELECT 1 FROM entry) AS found, ${columns('a')}, a.object_key
     FROM (VALUES (1)) one
     LEFT JOIN attachments a ON a.transaction_id = (SELECT id FROM entry)
     WHERE ${activeUser('$2', '$3')}
     ORDER BY a.created_at, a.id`,
    [transactionId, user.id, user.issuedAt],
  );
  if (!rows[0]?.found) throw new NotFound();
  return rows.filter((r) => r.id !== null).map(({ found: _f, ...row }) => row);
}

/**
 * Deletes the row (the trigger queues its object for the sweep), by a member who may edit the
 * entry or by the uploader; returns the object's key.
 */
export async function deleteAttachment(db: Db, user: Caller, id: string): Promise<string> {
  const { rows } = await db.query<{ role: string; allowed: boolean; object_key: string | null }>(
    `WITH target AS (
       SELECT a.id, entry.role, (entry.may_edit OR a.created_by = $2) AS allowed
       FROM attachments a CROSS JOIN LATERAL (${entryOf('a.transaction_id')}) AS entry
       WHERE a.id = $1
     ), gone AS (
       DELETE FROM attachments a USING target WHERE a.id = target.id AND target.allowed AND ${activeUser('$2', '$3')}
       RETURNING a.object_key
     )
     SELECT target.role, target.allowed, (SELECT object_key FROM gone) FROM target`,
    [id, user.id, user.issuedAt],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (!row.allowed) throw mayNotChange(row.role, 'delete');
  if (!row.object_key) throw new NotFound();
  return row.object_key;
}
