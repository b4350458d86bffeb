-- Up Migration
-- Receipts (issue 19): photos and PDFs attached to entries. The bytes never pass through the
-- API: a client uploads them straight to S3 with a presigned POST (lib/storage.ts) and the API
-- records what it was told and, on /complete/, what S3 holds. A row is `pending` from the
-- presigned request until /complete/ has checked the object (HeadObject: size and type as
-- declared), then `complete`.
--   user_id      the entry's owner: every statement is scoped by it, as transactions are;
--   created_by   who uploaded it: the per-user quota (ATTACHMENT_QUOTA_BYTES) is charged to it;
--   filename     as given, for display only (NFC, 1-255 characters, no control characters);
--                never part of the object key;
--   object_key   random (`attachments/<random uuid>`), chosen by the API, unique.
--   slot         1-10, unique per entry: the limit of 10 attachments per entry holds even for
--                concurrent uploads (the INSERT takes the lowest free slot; of two that take the
--                same one, the second fails with 23505 and is answered 409, retry).
-- The quota is checked by the INSERT that records the upload (lib/attachments/queries.ts); two
-- uploads of one user at the same instant can overshoot it by at most one file each.
-- The foreign keys lock transactions and users (SHARE ROW EXCLUSIVE: reads go on, writes wait)
-- until commit; the tables are new, so nothing is scanned, but waiting for that lock behind a
-- long write would hold every write of the API behind the migration: give up after 1 s instead
-- (55P03; nothing is applied, run the migration again), as migration 1764000070000 does.
SET LOCAL lock_timeout = '1s';
CREATE TABLE attachments (
  id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  transaction_id uuid NOT NULL REFERENCES transactions (id) ON DELETE CASCADE,
  user_id        bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  created_by     bigint NOT NULL,
  filename       text NOT NULL CHECK (
                   char_length(filename) BETWEEN 1 AND 255
                   AND filename !~ '[\u0001-\u001f\u007f-\u009f]'
                   AND filename IS NFC NORMALIZED
                 ),
  content_type   text NOT NULL CHECK (char_length(content_type) <= 100),
  size           bigint NOT NULL CHECK (size > 0),
  slot           smallint NOT NULL CHECK (slot BETWEEN 1 AND 10),
  status         text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'complete')),
  object_key     text NOT NULL UNIQUE,
  created_at     timestamptz NOT NULL DEFAULT now(),
  completed_at   timestamptz,
  UNIQUE (transaction_id, slot)
);
-- An entry's attachments (the GET list, the limit of 10) and the lists' `attachments` count of
-- complete ones: an index-only count per page row, whatever the table's size.
CREATE INDEX attachments_transaction_idx ON attachments (transaction_id, status);
-- The quota: the uploader's bytes, read from the index alone.
CREATE INDEX attachments_created_by_idx ON attachments (created_by) INCLUDE (size);
-- Deleting a user cascades here through user_id: without an index each deletion would scan the table.
CREATE INDEX attachments_user_idx ON attachments (user_id);
-- The sweep of uploads never completed.
CREATE INDEX attachments_pending_idx ON attachments (created_at) WHERE status = 'pending';

-- Objects whose rows are gone, for the sweep (lib/attachments/sweep.ts) to delete from S3.
-- Deleting an attachment, an entry, a book or a user removes rows in the database only (the
-- delete never waits on S3, and never while holding a connection); this trigger queues every
-- removed row's object in the same transaction, whatever statement or cascade removed it, so no
-- object is forgotten. DELETE /api/attachments/{id}/ also deletes its object right after its
-- statement; the sweep (every 15 minutes; a failed delete is retried an hour later) deletes the
-- rest and then drops the queue's rows.
CREATE TABLE attachment_deletions (
  object_key text PRIMARY KEY,
  queued_at  timestamptz NOT NULL DEFAULT now(),
  -- A sweep claims a row by moving this forward: a sweep that dies after claiming is retried later.
  retry_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX attachment_deletions_retry_idx ON attachment_deletions (retry_at);

CREATE FUNCTION cashbook_queue_attachment_deletions() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO attachment_deletions (object_key) SELECT object_key FROM gone ON CONFLICT DO NOTHING;
  RETURN NULL;
END $$;
-- Statement level with a transition table: a book deleted with thousands of receipts queues
-- them in one INSERT.
CREATE TRIGGER attachments_queue_deletions AFTER DELETE ON attachments
  REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION cashbook_queue_attachment_deletions();

-- Down Migration
DROP TRIGGER attachments_queue_deletions ON attachments;
DROP FUNCTION cashbook_queue_attachment_deletions();
DROP TABLE attachment_deletions;
DROP TABLE attachments;
