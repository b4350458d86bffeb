-- Up Migration
-- Revoked accounts. A deactivated (is_active = false) or deleted user is refused by every data
-- statement, inside the statement itself (no extra round trip): each one carries the condition
--   cashbook_check_user((SELECT is_active FROM users WHERE id = $user))
-- (lib/auth/active-user.ts). It references no column of the statement's tables, so PostgreSQL
-- evaluates it once, as a "One-Time Filter", before reading any row — even when no row would
-- match — and the raised error aborts the whole statement, writes included. The argument is
-- NULL for a deleted user. Type-agnostic on purpose: users.id may be a uuid or a bigint.
CREATE FUNCTION cashbook_check_user(active boolean) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF active IS NULL THEN
    RAISE EXCEPTION 'user_not_found' USING ERRCODE = 'CBU01';
  END IF;
  IF NOT active THEN
    RAISE EXCEPTION 'user_inactive' USING ERRCODE = 'CBU02';
  END IF;
  RETURN true;
END $$;

-- "Log out everywhere" and password changes: refresh tokens issued (iat) before this instant
-- are refused. NULL: never revoked (adding a NULL column rewrites nothing).
ALTER TABLE users ADD COLUMN tokens_valid_after timestamptz;

-- Login and registration limits, one row per counter (lib/auth/login-limit.ts):
--   pair:<source> <username>   failed logins of one username from one source (the tight limit;
--                              last_success marks a source that has logged in to that account)
--   source:<source>            failed logins from one source, whatever the username (spraying)
--   user:<username>            failed logins of one username from all sources (slow; only
--                              unknown sources are held back by it, so it locks no one out)
--   register:<source>          registrations from one source (username enumeration)
-- A source is an IPv4 address or an IPv6 /64. Fixed windows from the first attempt.
CREATE TABLE login_limits (
  key            text PRIMARY KEY,
  attempts       integer NOT NULL,
  window_seconds integer NOT NULL,
  window_started timestamptz NOT NULL DEFAULT now(),
  last_success   timestamptz
);
CREATE INDEX login_limits_window_idx ON login_limits (window_started);
-- login_failures (the previous release's per-username counter) stays until a later release:
-- during a deploy the previous functions still count logins in it. Unused from this release on.

-- Down Migration
DROP TABLE login_limits;
ALTER TABLE users DROP COLUMN tokens_valid_after;
DROP FUNCTION cashbook_check_user(boolean);
