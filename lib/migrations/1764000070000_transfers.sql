-- Up Migration
-- contract: the unique index below covers only rows with a transfer_id, a column the previous release does not know and never writes; its writes are checked against nothing new.
-- Transfers between books (issue 20). A transfer is a PAIR of ordinary entries — an expense in
-- the book the money leaves, an income in the book it enters — sharing `transfer_id`. No table
-- of its own: the pair is all there is to a transfer (its amounts, date, books and texts are the
-- entries'), so nothing can disagree with the entries, and the link is a column of the rows the
-- totals triggers already read (their transition tables carry it). The API writes, edits and
-- deletes both rows in ONE statement, so the totals of 1764000020000 stay exact with no change:
-- balances, counts and running balances include transfers, as a bank statement does.
--
-- This migration holds ACCESS EXCLUSIVE on transactions from the ADD COLUMN to its commit (the
-- three index builds below scan the table: about 0.4-0.7 s at 1,000,000 rows on PostgreSQL 15).
-- Waiting for that lock behind a long read (an export, a deep page) would queue every read and
-- write of the API behind the migration for as long as that read runs: give up after 1 s instead
-- (55P03 "canceling statement due to lock timeout"; nothing is applied, run the migration again).
SET LOCAL lock_timeout = '1s';
ALTER TABLE transactions ADD COLUMN transfer_id uuid;

-- At most one side of each kind per transfer; also how one side finds the other, and how a
-- transfer is read, edited and deleted by its id.
CREATE UNIQUE INDEX transactions_transfer_idx ON transactions (transfer_id, type) WHERE transfer_id IS NOT NULL;
-- GET /api/transfers/: the user's transfers (one row each, the sending side), newest first;
-- with ?book=, the book's transfer entries (either side), newest first.
CREATE INDEX transactions_transfer_list_idx ON transactions (user_id, date DESC, created_at DESC, id DESC)
  INCLUDE (book_id) WHERE transfer_id IS NOT NULL AND type = 'expense';
CREATE INDEX transactions_transfer_book_idx ON transactions (book_id, date DESC, created_at DESC, id DESC)
  WHERE transfer_id IS NOT NULL;

-- The transfer entries' share of book_totals, at the same three grains and with the same keys,
-- so that "income and expense apart from transfers" (the summary) and "without transfers"
-- (?exclude_transfers=true: counts and deep pages) read totals rows, never the ledger:
-- book_totals minus transfer_totals for the same key. Empty for users who never transfer.
CREATE TABLE transfer_totals (
  book_id  uuid NOT NULL,
  grain    smallint NOT NULL CONSTRAINT transfer_totals_grain_check CHECK (grain IN (0, 1, 2)),
  starts   date NOT NULL,
  category varchar(100) NOT NULL,
  type     text NOT NULL,
  entries  bigint NOT NULL,
  net      numeric NOT NULL,
  CONSTRAINT transfer_totals_pkey PRIMARY KEY (book_id, grain, starts, category, type)
) WITH (fillfactor = 80);

-- As ledger_totals_apply (same upsert, same key order, same deletion of rows at zero), over the
-- statement's rows that belong to a transfer. A statement that writes none (every write of a
-- user who never transfers) stops at the first, cheap check: no upsert is planned or run.
CREATE FUNCTION transfer_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    IF NOT EXISTS (SELECT 1 FROM new_rows WHERE transfer_id IS NOT NULL) THEN RETURN NULL; END IF;
    INSERT INTO transfer_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT n.*, 1 AS sign FROM new_rows AS n WHERE n.transfer_id IS NOT NULL) AS r
      CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
    RETURN NULL;
  ELSIF TG_OP = 'DELETE' THEN
    IF NOT EXISTS (SELECT 1 FROM old_rows WHERE transfer_id IS NOT NULL) THEN RETURN NULL; END IF;
    INSERT INTO transfer_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT o.*, -1 AS sign FROM old_rows AS o WHERE o.transfer_id IS NOT NULL) AS r
      CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
  ELSE
    IF NOT EXISTS (SELECT 1 FROM old_rows WHERE transfer_id IS NOT NULL)
       AND NOT EXISTS (SELECT 1 FROM new_rows WHERE transfer_id IS NOT NULL) THEN
      RETURN NULL;
    END IF;
    INSERT INTO transfer_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT n.*, 1 AS sign FROM new_rows AS n WHERE n.transfer_id IS NOT NULL
          UNION ALL SELECT o.*, -1 AS sign FROM old_rows AS o WHERE o.transfer_id IS NOT NULL) AS r
      CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.sign) <> 0 OR sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
  END IF;
  DELETE FROM transfer_totals WHERE entries = 0 AND book_id IN (SELECT book_id FROM old_rows WHERE transfer_id IS NOT NULL);
  RETURN NULL;
END
$fn$;

-- Named after the ledger's own (transactions_totals_*), and so fired after them (triggers of
-- one event fire in name order): both tables are upserted in the same order by every writer.
CREATE TRIGGER transactions_transfer_totals_insert AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transfer_totals_apply();
CREATE TRIGGER transactions_transfer_totals_update AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION transfer_totals_apply();
CREATE TRIGGER transactions_transfer_totals_delete AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION transfer_totals_apply();

CREATE FUNCTION transfer_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE transfer_totals;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER transactions_transfer_totals_truncate AFTER TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION transfer_totals_truncate();

-- Down Migration
SET LOCAL lock_timeout = '1s';
DROP TRIGGER transactions_transfer_totals_truncate ON transactions;
DROP TRIGGER transactions_transfer_totals_delete ON transactions;
DROP TRIGGER transactions_transfer_totals_update ON transactions;
DROP TRIGGER transactions_transfer_totals_insert ON transactions;
DROP FUNCTION transfer_totals_truncate();
DROP FUNCTION transfer_totals_apply();
DROP TABLE transfer_totals;
DROP INDEX transactions_transfer_book_idx;
DROP INDEX transactions_transfer_list_idx;
DROP INDEX transactions_transfer_idx;
ALTER TABLE transactions DROP COLUMN transfer_id;
