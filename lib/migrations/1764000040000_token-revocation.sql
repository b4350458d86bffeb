-- Up Migration
-- Log out (POST /api/token/blacklist/): the refresh tokens handed back, by jti, as SimpleJWT's
-- token_blacklist app keeps them; with JWT_ROTATE_REFRESH_TOKENS each refresh also spends the
-- token it was given (BLACKLIST_AFTER_ROTATION). A row is useless once its token has expired
-- (expires_at = the token's exp): the statement that blacklists purges a few expired rows
-- (lib/auth/blacklist.ts), so no cron is needed. user_id has no foreign key: a deleted user's
-- rows simply age out, and logging out needs no lookup of the user.
CREATE TABLE token_blacklist (
  jti        text PRIMARY KEY,
  user_id    bigint NOT NULL,
  expires_at timestamptz NOT NULL
);
CREATE INDEX token_blacklist_expires_idx ON token_blacklist (expires_at);

-- "Log out everywhere" and password changes set users.tokens_valid_after (migration
-- 1764000030000); from this release on ACCESS tokens are checked against it too, in the same
-- one-time filter as the active-user check (lib/auth/active-user.ts):
--   (SELECT cashbook_check_access(u.is_active, u.tokens_valid_after, $issued)
--      FROM (VALUES (1)) one LEFT JOIN users u ON u.id = $user)
-- The LEFT JOIN makes a deleted user a NULL `active`, so the function runs for every case.
-- issued_at is when the token was issued, epoch seconds: to the millisecond for our tokens
-- (their jti), the start of iat's second for the old backend's (lib/auth/tokens.ts). A token
-- issued at or before the revocation is refused. Compared as epochs: to_timestamp() of an absurd
-- value would raise 22008 instead of answering. cashbook_check_user(boolean) stays for the
-- previous release's functions, which run during a deploy.
CREATE FUNCTION cashbook_check_access(active boolean, valid_after timestamptz, issued_at double precision) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
  IF active IS NULL THEN
    RAISE EXCEPTION 'user_not_found' USING ERRCODE = 'CBU01';
  END IF;
  IF NOT active THEN
    RAISE EXCEPTION 'user_inactive' USING ERRCODE = 'CBU02';
  END IF;
  IF valid_after IS NOT NULL AND EXTRACT(EPOCH FROM valid_after)::float8 >= issued_at THEN
    RAISE EXCEPTION 'token_revoked' USING ERRCODE = 'CBU03';
  END IF;
  RETURN true;
END $$;

-- Down Migration
DROP FUNCTION cashbook_check_access(boolean, timestamptz, double precision);
DROP TABLE token_blacklist;
