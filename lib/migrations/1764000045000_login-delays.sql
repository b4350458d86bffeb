-- Up Migration
-- The last attempt each login_limits counter let through (lib/auth/login-limit.ts): past the
-- source or user limit, an unknown source waits a delay that runs from it and doubles with each
-- attempt let through, instead of a block that every refused attempt renewed. NULL for rows the
-- previous release wrote: no wait. A nullable column without a default rewrites nothing, and the
-- previous functions, still running during the deploy, do not name it.
ALTER TABLE login_limits ADD COLUMN last_attempt timestamptz;

-- Down Migration
ALTER TABLE login_limits DROP COLUMN last_attempt;
