-- Up Migration
CREATE TABLE users (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  username      varchar(150) NOT NULL,
  email         varchar(254) NOT NULL DEFAULT '',
  password_hash text NOT NULL,
  date_joined   timestamptz NOT NULL DEFAULT now(),
  is_active     boolean NOT NULL DEFAULT true,
  CONSTRAINT users_username_key UNIQUE (username)
);

CREATE TABLE transactions (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  type         text NOT NULL CONSTRAINT transactions_type_check CHECK (type IN ('income', 'expense')),
  amount       numeric(14, 2) NOT NULL CONSTRAINT transactions_amount_check CHECK (amount > 0),
  category     varchar(100) NOT NULL DEFAULT '',
  description  varchar(1000) NOT NULL DEFAULT '',
  date         date NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')::date,
  payment_mode text NOT NULL DEFAULT 'cash'
    CONSTRAINT transactions_payment_mode_check CHECK (payment_mode IN ('cash', 'bank', 'card', 'upi', 'cheque', 'other')),
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX transactions_user_date_idx ON transactions (user_id, date DESC, created_at DESC);

-- Down Migration
DROP TABLE transactions;
DROP TABLE users;
