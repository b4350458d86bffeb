-- Up Migration
-- Several cashbooks per user. Every transaction belongs to exactly one book of its own user:
-- the composite foreign key makes "a transaction in another user's book" impossible in the data,
-- whatever the application code does.
CREATE TABLE books (
  id         uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       varchar(100) NOT NULL,
  currency   char(3) NOT NULL CONSTRAINT books_currency_check CHECK (currency ~ '^[A-Z]{3}$'),
  is_default boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT books_user_id_id_key UNIQUE (user_id, id)
);
-- At most one default book per user: where old clients' transactions go.
CREATE UNIQUE INDEX books_one_default_idx ON books (user_id) WHERE is_default;
CREATE INDEX books_user_created_idx ON books (user_id, created_at, id);

-- Existing users get their default book; existing transactions move into it.
INSERT INTO books (user_id, name, currency, is_default)
SELECT id, 'Cashbook', 'INR', true FROM users;

ALTER TABLE transactions ADD COLUMN book_id uuid;
UPDATE transactions t SET book_id = b.id FROM books b WHERE b.user_id = t.user_id AND b.is_default;
ALTER TABLE transactions ALTER COLUMN book_id SET NOT NULL;
-- NO ACTION (checked at the end of the statement): deleting a book deletes its transactions
-- explicitly in the same statement (?force=true), and a concurrent insert into it makes the
-- delete fail instead of silently losing the new row.
ALTER TABLE transactions ADD CONSTRAINT transactions_book_fkey
  FOREIGN KEY (user_id, book_id) REFERENCES books (user_id, id);

-- Listing (default order -date,-created_at; id breaks ties deterministically). The included
-- columns make the list's count and the summary index-only scans.
DROP INDEX transactions_user_date_idx;
CREATE INDEX transactions_user_date_idx ON transactions (user_id, date DESC, created_at DESC, id DESC)
  INCLUDE (book_id, type, amount, category);
-- The running balance: the book's rows in ledger order, index-only (type and amount included).
CREATE INDEX transactions_book_ledger_idx ON transactions (book_id, date, created_at, id) INCLUDE (type, amount);
-- Amount ordering and range filters.
CREATE INDEX transactions_user_amount_idx ON transactions (user_id, amount);
-- search: case-insensitive substring of description or category (ILIKE '%term%').
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX transactions_description_trgm_idx ON transactions USING gin (description gin_trgm_ops);
CREATE INDEX transactions_category_trgm_idx ON transactions USING gin (category gin_trgm_ops);

-- Idempotency-Key records (Stripe-like): the first response of (user, key) is kept for 24 h.
-- status IS NULL while the first request is in flight.
CREATE TABLE idempotency_keys (
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key          varchar(255) NOT NULL,
  request_hash text NOT NULL,
  status       smallint,
  response     text,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz NOT NULL DEFAULT now() + interval '24 hours',
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (user_id, expires_at);

-- Down Migration
DROP TABLE idempotency_keys;
DROP INDEX transactions_category_trgm_idx;
DROP INDEX transactions_description_trgm_idx;
DROP INDEX transactions_user_amount_idx;
DROP INDEX transactions_book_ledger_idx;
DROP INDEX transactions_user_date_idx;
CREATE INDEX transactions_user_date_idx ON transactions (user_id, date DESC, created_at DESC);
ALTER TABLE transactions DROP CONSTRAINT transactions_book_fkey;
ALTER TABLE transactions DROP COLUMN book_id;
DROP TABLE books;
