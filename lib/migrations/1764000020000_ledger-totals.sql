-- Up Migration
-- Per-book running totals, so that balances, counts and the summary read a few small rows
-- instead of every transaction of a book. Kept exact by statement-level AFTER triggers on
-- `transactions` (below): they run inside the writing statement, whatever wrote it (the API,
-- an import, psql's INSERT ... SELECT generate_series, a cascade from deleting a user or book).
-- Keyed by book only (a transaction's book is of its own user; queries reach the books of a
-- user through `books`), so nothing here depends on the type of users.id.

-- ONE table (one relation and one index for a fresh backend to load, one upsert per write):
-- entries and net amount (income - expense) per book at three grains —
--   grain 0: per day              (category '' and type '': all of the day's rows)
--   grain 1: per month, category and type (the summary; counts of lists filtered by them)
--   grain 2: per year             (category '' and type '')
-- so the balance before any date is its year rows, the month rows of its year and the day
-- rows of its month, and a book's balance is its year rows. A real type is never ''.
CREATE TABLE book_totals (
  book_id  uuid NOT NULL,
  grain    smallint NOT NULL CONSTRAINT book_totals_grain_check CHECK (grain IN (0, 1, 2)),
  starts   date NOT NULL,
  category varchar(100) NOT NULL,
  type     text NOT NULL,
  entries  bigint NOT NULL,
  net      numeric NOT NULL,
  CONSTRAINT book_totals_pkey PRIMARY KEY (book_id, grain, starts, category, type)
) WITH (fillfactor = 80);

-- Applies a statement's rows: +1 per new row, -1 per old row (an UPDATE has both, so a change
-- that moves nothing that is totalled — a description — cancels out and touches no total
-- row). One upsert, in key order: concurrent writers lock total rows in the same order and
-- cannot deadlock on them. Rows that reach zero entries are deleted, so the table holds
-- exactly what a recompute would. The statement is built per operation (only that
-- operation's transition tables exist) and run with EXECUTE, which plans it once per call:
-- the same as a cached plan on a fresh backend, which is what every API request is.
CREATE FUNCTION ledger_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
DECLARE
  delta text;
BEGIN
  delta := CASE TG_OP
    WHEN 'INSERT' THEN 'SELECT book_id, date, category, type, amount, 1 AS sign FROM new_rows'
    WHEN 'DELETE' THEN 'SELECT book_id, date, category, type, amount, -1 AS sign FROM old_rows'
    ELSE 'SELECT book_id, date, category, type, amount, 1 AS sign FROM new_rows
          UNION ALL SELECT book_id, date, category, type, amount, -1 AS sign FROM old_rows'
  END;
  EXECUTE format(
    $sql$
    INSERT INTO book_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT d.book_id, g.grain,
           CASE g.grain WHEN 0 THEN d.date
                        WHEN 1 THEN date_trunc('month', d.date::timestamp)::date
                        ELSE date_trunc('year', d.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN d.category ELSE '' END,
           CASE g.grain WHEN 1 THEN d.type ELSE '' END,
           sum(d.entries), sum(d.net)
    FROM (SELECT book_id, date, category, type, sum(sign) AS entries,
                 sum(sign * CASE WHEN type = 'income' THEN amount ELSE -amount END) AS net
          FROM (%s) AS r GROUP BY book_id, date, category, type) AS d
    CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(d.entries) <> 0 OR sum(d.net) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net
    $sql$, delta);
  IF TG_OP <> 'INSERT' THEN
    -- Only rows this statement decremented can be at zero (committed totals never are).
    DELETE FROM book_totals WHERE entries = 0 AND book_id IN (SELECT book_id FROM old_rows);
  END IF;
  RETURN NULL;
END
$fn$;

CREATE TRIGGER transactions_totals_insert AFTER INSERT ON transactions
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_totals_apply();
CREATE TRIGGER transactions_totals_update AFTER UPDATE ON transactions
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_totals_apply();
CREATE TRIGGER transactions_totals_delete AFTER DELETE ON transactions
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION ledger_totals_apply();

-- TRUNCATE fires no row events: the totals go with the rows.
CREATE FUNCTION ledger_totals_truncate() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  TRUNCATE book_totals;
  RETURN NULL;
END
$fn$;
CREATE TRIGGER transactions_totals_truncate AFTER TRUNCATE ON transactions
  FOR EACH STATEMENT EXECUTE FUNCTION ledger_totals_truncate();

-- Backfill from the rows already there.
INSERT INTO book_totals (book_id, grain, starts, category, type, entries, net)
SELECT t.book_id, g.grain,
       CASE g.grain WHEN 0 THEN t.date
                    WHEN 1 THEN date_trunc('month', t.date::timestamp)::date
                    ELSE date_trunc('year', t.date::timestamp)::date END,
       CASE g.grain WHEN 1 THEN t.category ELSE '' END,
       CASE g.grain WHEN 1 THEN t.type ELSE '' END,
       count(*), sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END)
FROM transactions t CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
GROUP BY 1, 2, 3, 4, 5;

-- Down Migration
DROP TRIGGER transactions_totals_truncate ON transactions;
DROP TRIGGER transactions_totals_delete ON transactions;
DROP TRIGGER transactions_totals_update ON transactions;
DROP TRIGGER transactions_totals_insert ON transactions;
DROP FUNCTION ledger_totals_truncate();
DROP FUNCTION ledger_totals_apply();
DROP TABLE book_totals;
