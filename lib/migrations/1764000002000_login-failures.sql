-- Up Migration
-- Failed logins per username (known or not: an unknown name is counted the same way, so the
-- limit says nothing about which usernames exist). One row per name, fixed window from the
-- first failure; a successful login deletes the row.
CREATE TABLE login_failures (
  username       varchar(150) PRIMARY KEY,
  failures       integer NOT NULL,
  window_started timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_window_idx ON login_failures (window_started);

-- Down Migration
DROP TABLE login_failures;
