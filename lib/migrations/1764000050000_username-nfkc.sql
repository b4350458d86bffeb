-- Up Migration
-- contract: usernames become unique once NFKC-normalised. The previous release already
-- normalises at registration and login (lib/auth/schemas.ts); only its imports stored raw names,
-- and a raw name that clashes with a normalised one is exactly what this refuses.
--
-- Registration and login compare usernames NFKC-normalised (Django's normalize_username:
-- "ａlice" with a full-width a is "alice"), but the imports stored them raw: an imported
-- "ａlice" could never log in, and "alice" could register beside it. Existing names are
-- normalised here, and the unique index below holds uniqueness on the normalised name whatever
-- writes the row (normalize() is PostgreSQL 13+, IMMUTABLE, and needs a UTF8 database).
--
-- Two existing users whose names are the same once normalised cannot both keep them: that is
-- for a person to decide, so the migration stops and names them instead of failing on an index.
-- Only names that are not normalised yet can clash (the rest are already unique), so the check
-- reads those few rows and looks their normalised forms up by the existing username index.
DO $$
DECLARE
  clashes text;
  too_long text;
BEGIN
  -- One character can grow under NFKC (an imported name was stored raw): a name past the
  -- column's 150 characters once normalised would fail the UPDATE below with a bare 22001.
  SELECT string_agg(format('user %s %L', id, username), ', ' ORDER BY id) INTO too_long
  FROM users WHERE NOT username IS NFKC NORMALIZED AND length(normalize(username, NFKC)) > 150;
  IF too_long IS NOT NULL THEN
    RAISE EXCEPTION 'usernames longer than 150 characters once NFKC-normalised: %. Rename them '
      '(UPDATE users SET username = ''...'' WHERE id = ...), then migrate again; nothing was changed.', too_long;
  END IF;

  WITH odd AS (
    SELECT id, username, normalize(username, NFKC) AS name FROM users WHERE NOT username IS NFKC NORMALIZED
  ), involved AS (
    SELECT id, username, name FROM odd
    UNION
    SELECT u.id, u.username, u.username FROM users u JOIN odd ON u.username = odd.name
  )
  SELECT string_agg(format('%L: %s', name, ids), '; ' ORDER BY name) INTO clashes
  FROM (
    SELECT name, string_agg(format('user %s %L', id, username), ', ' ORDER BY id) AS ids
    FROM involved GROUP BY name HAVING count(*) > 1
  ) d;
  IF clashes IS NOT NULL THEN
    RAISE EXCEPTION 'users whose usernames are the same once NFKC-normalised: %. Rename all but one of each '
      '(UPDATE users SET username = ''...'' WHERE id = ...), then migrate again; nothing was changed.', clashes;
  END IF;
END $$;

UPDATE users SET username = normalize(username, NFKC) WHERE NOT username IS NFKC NORMALIZED;

-- A plain (not CONCURRENTLY) build: node-pg-migrate runs each SQL migration in one transaction,
-- and CONCURRENTLY cannot run in one. The build holds a SHARE lock on users: reads (every
-- request's active-user check, logins) and writes to other tables (a transaction's foreign-key
-- check takes only ROW SHARE on users) go on; only writes to users (registration, a password
-- upgrade at login) wait — measured 3.4 s for 1,000,000 users on a loaded 2-core machine. In
-- exchange the check, the renames and the index commit together or not at all.
CREATE UNIQUE INDEX users_username_nfkc_key ON users (normalize(username, NFKC));

-- Down Migration
-- The normalised names stay: they are what registration and login use anyway.
DROP INDEX users_username_nfkc_key;
