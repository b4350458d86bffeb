-- Up Migration
-- contract: transactions_book_fkey becomes DEFERRABLE INITIALLY IMMEDIATE (catalog only): every write of the previous release is checked exactly as before, at the end of its statement.
-- Shared books (issue 18): members with roles, who recorded what, every entry's history.
--
-- A book keeps its ACCOUNT: books.user_id (= transactions.user_id of its entries) is the user who
-- created it and no longer means "who may see it". It never changes while that user exists, so
-- handing ownership on costs one statement on book_members, not an UPDATE of a million entries,
-- and the list's index (user_id, date DESC, ...) still serves the caller's own account with the
-- plan it had. Who may do what is book_members: exactly one active `owner` per book, plus
-- admins, operators and viewers; `pending` is an invitation not yet accepted; `declined`,
-- `removed` and `left` rows are kept (the activity names who did it) and count as no membership.
--
-- Expand only, and catalog-only on transactions (three columns with constant defaults): nothing
-- here rewrites or scans the 1,000,000-row table, and no backfill touches its rows.
--   created_by / updated_by  the user who recorded / last changed the entry, written by the API.
--                            No foreign key (and no index to keep on every write): an id whose
--                            user is gone reads as a deleted account (null) through a LEFT JOIN.
--   legacy                   true for entries recorded before this migration (the catalog's
--                            stored default for existing rows; new rows get false): their
--                            recorder is the book's account, and their "created" version is
--                            written when they are first changed (marked `imported`), or shown
--                            from the row until then.
SET LOCAL lock_timeout = '1s';

ALTER TABLE transactions ADD COLUMN created_by bigint;
ALTER TABLE transactions ADD COLUMN updated_by bigint;
ALTER TABLE transactions ADD COLUMN legacy boolean NOT NULL DEFAULT true;
ALTER TABLE transactions ALTER COLUMN legacy SET DEFAULT false;

-- Deleting a user who created a book that someone else now owns re-homes the book to its owner
-- (cashbook_user_leaving, below): its entries' user_id moves with it, in one transaction.
ALTER TABLE transactions ALTER CONSTRAINT transactions_book_fkey DEFERRABLE INITIALLY IMMEDIATE;

CREATE TABLE book_members (
  book_id    uuid NOT NULL REFERENCES books (id) ON DELETE CASCADE,
  user_id    bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CONSTRAINT book_members_role_check CHECK (role IN ('owner', 'admin', 'operator', 'viewer')),
  status     text NOT NULL CONSTRAINT book_members_status_check CHECK (status IN ('pending', 'active', 'declined', 'removed', 'left')),
  invited_by bigint,
  -- Who made the last change to this row (the activity's actor).
  updated_by bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (book_id, user_id),
  CONSTRAINT book_members_owner_active CHECK (role <> 'owner' OR status = 'active'),
  -- One owner per book, checked at commit: handing ownership on swaps two rows in one statement.
  CONSTRAINT book_members_one_owner EXCLUDE USING btree (book_id WITH =) WHERE (role = 'owner') DEFERRABLE INITIALLY DEFERRED
);
-- The caller's books and invitations; also the users' ON DELETE CASCADE.
CREATE INDEX book_members_user_idx ON book_members (user_id, status, book_id);

-- Every book has its creator as owner, whoever inserts it (the API, an import, the previous release).
CREATE FUNCTION cashbook_book_owner() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  INSERT INTO book_members (book_id, user_id, role, status, updated_by, created_at, updated_at)
  SELECT n.id, n.user_id, 'owner', 'active', n.user_id, n.created_at, n.created_at FROM new_books n;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER books_owner_insert AFTER INSERT ON books
  REFERENCING NEW TABLE AS new_books FOR EACH STATEMENT EXECUTE FUNCTION cashbook_book_owner();

INSERT INTO book_members (book_id, user_id, role, status, updated_by, created_at, updated_at)
SELECT b.id, b.user_id, 'owner', 'active', b.user_id, b.created_at, b.created_at FROM books b;

-- The book's activity: every version of every entry (its history) and every membership change.
-- Written by triggers in the writing statement, whatever wrote it; the application role may
-- INSERT and SELECT here, never UPDATE or DELETE (revoked below and by setupAppRole). Deleting a
-- book removes its activity (cashbook_book_gone, which runs as the table's owner).
--   entry rows       transaction_id, version (1, 2, ...), action created | updated | deleted,
--                    changes {field: [old, new]} (every field on created and deleted)
--   membership rows  subject_id (the member), action invited | joined | declined |
--                    role_changed | removed | left | ownership_transferred, changes {role, status}
-- actor_id is the user who did it, from the row the API wrote (created_by, updated_by, a
-- deletion's claim in entry_deletions); it is kept after that user is deleted (shown as null).
-- book_id has no foreign key: its per-row check cost a third of the history's cost in a bulk
-- insert (1.1 s per 100,000 rows); a trigger on books removes a deleted book's activity instead.
CREATE TABLE book_activity (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  book_id        uuid NOT NULL,
  at             timestamptz NOT NULL DEFAULT now(),
  actor_id       bigint,
  action         text NOT NULL CONSTRAINT book_activity_action_check CHECK (action IN (
                   'created', 'updated', 'deleted',
                   'invited', 'joined', 'declined', 'role_changed', 'removed', 'left', 'ownership_transferred')),
  transaction_id uuid,
  version        integer,
  subject_id     bigint,
  changes        jsonb NOT NULL DEFAULT '{}',
  imported       boolean NOT NULL DEFAULT false
);
-- An entry's history, oldest first (and the next version's number).
CREATE UNIQUE INDEX book_activity_version_idx ON book_activity (transaction_id, version) WHERE transaction_id IS NOT NULL;
-- A book's activity, newest first; ?actor= narrows it.
CREATE INDEX book_activity_book_idx ON book_activity (book_id, id DESC);
CREATE INDEX book_activity_actor_idx ON book_activity (book_id, actor_id, id DESC);

-- Deleting a book (the API, a user's cascade, SQL) removes its activity. The versions of an entry
-- that was moved out of it before, and still exists, follow the entry to its book: its history
-- stays whole. SECURITY DEFINER: the application role may not change activity rows itself.
CREATE FUNCTION cashbook_book_gone() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  UPDATE book_activity a SET book_id = t.book_id FROM old_books o, transactions t
   WHERE a.book_id = o.id AND a.transaction_id = t.id;
  DELETE FROM book_activity a USING old_books o WHERE a.book_id = o.id;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER books_activity_delete AFTER DELETE ON books
  REFERENCING OLD TABLE AS old_books FOR EACH STATEMENT EXECUTE FUNCTION cashbook_book_gone();

-- TRUNCATE fires no row events: the entries' versions go with the rows (membership changes stay).
-- A first import that failed half-way is started over this way, and re-inserts the same ids.
CREATE FUNCTION cashbook_entries_truncated() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  DELETE FROM book_activity WHERE transaction_id IS NOT NULL;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER transactions_history_truncate AFTER TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION cashbook_entries_truncated();

-- Who is deleting an entry: the API's DELETE statement inserts (entry, caller) here, and the
-- history trigger takes the row back out in the same statement. A delete that wrote none (bulk
-- SQL) is recorded with no actor.
CREATE TABLE entry_deletions (
  transaction_id uuid PRIMARY KEY,
  actor_id       bigint NOT NULL
);

-- An entry's fields as the API shows them (the history's `changes` keys), and the pairs
-- [old, new] a version records: every field on "created" and "deleted", the changed ones on
-- "updated". Written out field by field rather than built with jsonb_each: the trigger runs
-- in every write, and on a fresh backend (every API request) planning is most of its cost.
CREATE FUNCTION cashbook_entry_fields(t transactions) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
  SELECT jsonb_build_object(
    'book', t.book_id, 'type', t.type, 'amount', t.amount::text, 'category', t.category,
    'description', t.description, 'date', t.date::text, 'payment_mode', t.payment_mode, 'transfer', t.transfer_id)
$fn$;

CREATE FUNCTION cashbook_entry_changes(o transactions, n transactions) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
  SELECT jsonb_strip_nulls(jsonb_build_object(
    'book', CASE WHEN o.book_id IS DISTINCT FROM n.book_id THEN jsonb_build_array(o.book_id, n.book_id) END,
    'type', CASE WHEN o.type IS DISTINCT FROM n.type THEN jsonb_build_array(o.type, n.type) END,
    'amount', CASE WHEN o.amount IS DISTINCT FROM n.amount THEN jsonb_build_array(o.amount::text, n.amount::text) END,
    'category', CASE WHEN o.category IS DISTINCT FROM n.category THEN jsonb_build_array(o.category, n.category) END,
    'description', CASE WHEN o.description IS DISTINCT FROM n.description THEN jsonb_build_array(o.description, n.description) END,
    'date', CASE WHEN o.date IS DISTINCT FROM n.date THEN jsonb_build_array(o.date::text, n.date::text) END,
    'payment_mode', CASE WHEN o.payment_mode IS DISTINCT FROM n.payment_mode THEN jsonb_build_array(o.payment_mode, n.payment_mode) END,
    'transfer', CASE WHEN o.transfer_id IS DISTINCT FROM n.transfer_id THEN jsonb_build_array(o.transfer_id, n.transfer_id) END))
$fn$;

-- Every field as [value, null] ("deleted") or, `created`, [null, value].
CREATE FUNCTION cashbook_entry_whole(t transactions, created boolean) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $fn$
  SELECT jsonb_build_object(
    'book', jsonb_build_array(CASE WHEN NOT created THEN t.book_id END, CASE WHEN created THEN t.book_id END),
    'type', jsonb_build_array(CASE WHEN NOT created THEN t.type END, CASE WHEN created THEN t.type END),
    'amount', jsonb_build_array(CASE WHEN NOT created THEN t.amount::text END, CASE WHEN created THEN t.amount::text END),
    'category', jsonb_build_array(CASE WHEN NOT created THEN t.category END, CASE WHEN created THEN t.category END),
    'description', jsonb_build_array(CASE WHEN NOT created THEN t.description END, CASE WHEN created THEN t.description END),
    'date', jsonb_build_array(CASE WHEN NOT created THEN t.date::text END, CASE WHEN created THEN t.date::text END),
    'payment_mode', jsonb_build_array(CASE WHEN NOT created THEN t.payment_mode END, CASE WHEN created THEN t.payment_mode END),
    'transfer', jsonb_build_array(CASE WHEN NOT created THEN t.transfer_id END, CASE WHEN created THEN t.transfer_id END))
$fn$;

CREATE FUNCTION cashbook_entry_history() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO book_activity (book_id, at, actor_id, action, transaction_id, version, changes)
    SELECT n.book_id, n.created_at, n.created_by, 'created', n.id, 1, cashbook_entry_whole(n, true) FROM new_rows n;
    RETURN NULL;
  END IF;
  -- An entry recorded before history gets its "created" version, from the row as it was, the
  -- first time it changes.
  IF EXISTS (SELECT 1 FROM old_rows WHERE legacy) THEN
    INSERT INTO book_activity (book_id, at, actor_id, action, transaction_id, version, changes, imported)
    SELECT o.book_id, o.created_at, o.user_id, 'created', o.id, 1, cashbook_entry_whole(o, true), true
    FROM old_rows o
    WHERE o.legacy AND NOT EXISTS (SELECT 1 FROM book_activity v WHERE v.transaction_id = o.id);
  END IF;
  IF TG_OP = 'UPDATE' THEN
    INSERT INTO book_activity (book_id, actor_id, action, transaction_id, version, changes)
    SELECT c.book_id, c.actor_id, 'updated', c.id,
           COALESCE((SELECT max(v.version) FROM book_activity v WHERE v.transaction_id = c.id), 0) + 1, c.changes
    -- The actor is updated_by only when this write set it or updated_at (every API write sets
    -- both): a bulk SQL fix that sets neither is no one's, not the last API writer's.
    FROM (SELECT n.id, n.book_id, cashbook_entry_changes(o, n) AS changes,
                 CASE WHEN n.updated_by IS DISTINCT FROM o.updated_by OR n.updated_at IS DISTINCT FROM o.updated_at
                      THEN n.updated_by END AS actor_id
          FROM new_rows n JOIN old_rows o ON o.id = n.id) AS c
    WHERE c.changes <> '{}';
  ELSE
    -- A whole book's entries deleted with it (its activity goes with it): nothing to record.
    WITH claims AS (
      DELETE FROM entry_deletions d USING old_rows o WHERE d.transaction_id = o.id RETURNING d.transaction_id, d.actor_id
    )
    INSERT INTO book_activity (book_id, actor_id, action, transaction_id, version, changes)
    SELECT o.book_id, c.actor_id, 'deleted', o.id,
           COALESCE((SELECT max(v.version) FROM book_activity v WHERE v.transaction_id = o.id), 0) + 1,
           cashbook_entry_whole(o, false)
    FROM old_rows o LEFT JOIN claims c ON c.transaction_id = o.id
    WHERE EXISTS (SELECT 1 FROM books b WHERE b.id = o.book_id);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER transactions_history_insert AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cashbook_entry_history();
CREATE TRIGGER transactions_history_update AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION cashbook_entry_history();
CREATE TRIGGER transactions_history_delete AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION cashbook_entry_history();

-- Membership changes, from the row the API wrote (updated_by is who did it).
CREATE FUNCTION cashbook_member_activity() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  happened text;
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NEW.status <> 'pending' THEN RETURN NULL; END IF; -- a book's creator becoming its owner
    happened := 'invited';
  ELSIF NEW.status IS DISTINCT FROM OLD.status THEN
    happened := CASE NEW.status WHEN 'pending' THEN 'invited' WHEN 'active' THEN 'joined' WHEN 'declined' THEN 'declined'
                                WHEN 'removed' THEN 'removed' ELSE 'left' END;
  ELSIF NEW.role IS DISTINCT FROM OLD.role THEN
    happened := CASE WHEN NEW.role = 'owner' THEN 'ownership_transferred' ELSE 'role_changed' END;
  ELSE
    RETURN NULL;
  END IF;
  INSERT INTO book_activity (book_id, actor_id, action, subject_id, changes)
  VALUES (NEW.book_id, NEW.updated_by, happened, NEW.user_id,
          jsonb_strip_nulls(jsonb_build_object(
            'role', CASE WHEN TG_OP = 'INSERT' OR NEW.role IS DISTINCT FROM OLD.role
                         THEN jsonb_build_array(CASE WHEN TG_OP = 'UPDATE' THEN OLD.role END, NEW.role) END,
            'status', jsonb_build_array(CASE WHEN TG_OP = 'UPDATE' THEN OLD.status END, NEW.status))));
  RETURN NULL;
END
$fn$;
CREATE TRIGGER book_members_activity AFTER INSERT OR UPDATE ON book_members
  FOR EACH ROW EXECUTE FUNCTION cashbook_member_activity();

-- Deleting a user (an administrator's SQL or a Django-style admin: the API never does) keeps
-- what belongs to others: a book they created but no longer own moves to its owner's account
-- with its entries; a book they own goes with them, as their own books always did, and the other
-- side of a transfer with it stays, as an ordinary entry. Entries they recorded in others' books
-- stay (created_by then names no user: a deleted account). SECURITY DEFINER: it runs as the
-- schema's owner whoever deletes, as the foreign keys' cascades do.
CREATE FUNCTION cashbook_user_leaving() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $fn$
BEGIN
  -- Books this user created and someone else owns: re-homed to the owner's account.
  IF EXISTS (SELECT 1 FROM books b JOIN book_members m ON m.book_id = b.id AND m.role = 'owner'
             WHERE b.user_id = OLD.id AND m.user_id <> OLD.id) THEN
    SET CONSTRAINTS transactions_book_fkey DEFERRED;
    -- Their receipts too (attachments.user_id is the entry's account: its cascade would take them).
    UPDATE attachments a SET user_id = m.user_id
      FROM transactions t, books b JOIN book_members m ON m.book_id = b.id AND m.role = 'owner'
     WHERE a.transaction_id = t.id AND t.book_id = b.id AND b.user_id = OLD.id AND m.user_id <> OLD.id;
    UPDATE transactions t SET user_id = m.user_id, legacy = false
      FROM books b JOIN book_members m ON m.book_id = b.id AND m.role = 'owner'
     WHERE t.book_id = b.id AND b.user_id = OLD.id AND m.user_id <> OLD.id;
    UPDATE books b SET user_id = m.user_id, is_default = false
      FROM book_members m WHERE m.book_id = b.id AND m.role = 'owner' AND b.user_id = OLD.id AND m.user_id <> OLD.id;
    SET CONSTRAINTS transactions_book_fkey IMMEDIATE;
  END IF;
  -- Books this user owns (created by them or handed to them): deleted with them. The other side
  -- of a transfer with one of them becomes an ordinary entry (a change by no one: updated_by NULL).
  UPDATE transactions p SET transfer_id = NULL, updated_at = now(), updated_by = NULL
   WHERE p.transfer_id IN (SELECT t.transfer_id FROM transactions t JOIN book_members m ON m.book_id = t.book_id
                            WHERE m.user_id = OLD.id AND m.role = 'owner' AND t.transfer_id IS NOT NULL)
     AND p.book_id NOT IN (SELECT m.book_id FROM book_members m WHERE m.user_id = OLD.id AND m.role = 'owner');
  -- One statement, as the API's book delete: by the time the history trigger runs, the books are
  -- gone, so it writes no "deleted" version that would be thrown away with them.
  WITH gone AS (
    DELETE FROM transactions t USING book_members m WHERE m.book_id = t.book_id AND m.user_id = OLD.id AND m.role = 'owner'
  )
  DELETE FROM books b USING book_members m WHERE m.book_id = b.id AND m.user_id = OLD.id AND m.role = 'owner';
  RETURN OLD;
END
$fn$;
CREATE TRIGGER users_leaving BEFORE DELETE ON users FOR EACH ROW EXECUTE FUNCTION cashbook_user_leaving();

-- History is append-only for every role but the owner's (the application role included).
DO $grants$
DECLARE
  grantee text;
BEGIN
  FOR grantee IN
    SELECT DISTINCT g.grantee FROM information_schema.role_table_grants g
     WHERE g.table_schema = current_schema() AND g.table_name = 'book_activity'
       AND g.privilege_type IN ('UPDATE', 'DELETE', 'TRUNCATE') AND g.grantee <> current_user
  LOOP
    EXECUTE format('REVOKE UPDATE, DELETE, TRUNCATE ON book_activity FROM %I', grantee);
  END LOOP;
END
$grants$;

-- Down Migration
DROP TRIGGER users_leaving ON users;
DROP FUNCTION cashbook_user_leaving();
DROP TRIGGER book_members_activity ON book_members;
DROP FUNCTION cashbook_member_activity();
DROP TRIGGER transactions_history_delete ON transactions;
DROP TRIGGER transactions_history_update ON transactions;
DROP TRIGGER transactions_history_insert ON transactions;
DROP FUNCTION cashbook_entry_history();
DROP FUNCTION cashbook_entry_whole(transactions, boolean);
DROP FUNCTION cashbook_entry_changes(transactions, transactions);
DROP FUNCTION cashbook_entry_fields(transactions);
DROP TABLE entry_deletions;
DROP TRIGGER transactions_history_truncate ON transactions;
DROP FUNCTION cashbook_entries_truncated();
DROP TRIGGER books_activity_delete ON books;
DROP FUNCTION cashbook_book_gone();
DROP TABLE book_activity;
DROP TRIGGER books_owner_insert ON books;
DROP FUNCTION cashbook_book_owner();
DROP TABLE book_members;
ALTER TABLE transactions ALTER CONSTRAINT transactions_book_fkey NOT DEFERRABLE;
ALTER TABLE transactions DROP COLUMN legacy;
ALTER TABLE transactions DROP COLUMN updated_by;
ALTER TABLE transactions DROP COLUMN created_by;
