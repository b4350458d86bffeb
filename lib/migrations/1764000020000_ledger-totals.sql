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

-- Applies a statement's rows: +1 per new row, -1 per old row, at the three grains. One upsert
-- in key order: concurrent writers lock total rows in the same order and cannot deadlock on
-- them. Rows that reach zero entries are deleted, so the table holds exactly what a recompute
-- would. The upsert is written out once per operation (only that operation's transition
-- tables exist), as static SQL with one flat GROUP BY: on a fresh backend — every API request
-- is one — planning this costs about half of a nested GROUP BY or of the same text run with
-- EXECUTE (measured with /proc/<pid>/schedstat; see docs/capacity.md).
CREATE FUNCTION ledger_totals_apply() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO book_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT n.*, 1 AS sign FROM new_rows AS n) AS r CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
  ELSIF TG_OP = 'DELETE' THEN
    INSERT INTO book_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT o.*, -1 AS sign FROM old_rows AS o) AS r CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
  ELSE
    -- An UPDATE that changes nothing totalled (a description) cancels out: no total row is locked.
    INSERT INTO book_totals AS p (book_id, grain, starts, category, type, entries, net)
    SELECT r.book_id, g.grain,
           CASE g.grain WHEN 0 THEN r.date
                        WHEN 1 THEN date_trunc('month', r.date::timestamp)::date
                        ELSE date_trunc('year', r.date::timestamp)::date END,
           CASE g.grain WHEN 1 THEN r.category ELSE '' END,
           CASE g.grain WHEN 1 THEN r.type ELSE '' END,
           sum(r.sign), sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END)
    FROM (SELECT n.*, 1 AS sign FROM new_rows AS n UNION ALL SELECT o.*, -1 AS sign FROM old_rows AS o) AS r CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
    GROUP BY 1, 2, 3, 4, 5
    HAVING sum(r.sign) <> 0 OR sum(r.sign * CASE WHEN r.type = 'income' THEN r.amount ELSE -r.amount END) <> 0
    ORDER BY 1, 2, 3, 4, 5
    ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
      SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net;
  END IF;
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
