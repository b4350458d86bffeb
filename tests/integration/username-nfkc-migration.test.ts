import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrate } from '../../scripts/lib/database-setup.js';
import { adminQuery } from '../support/db.js';

// Migration 1764000050000 on a database that already holds users: their names are normalised
// (NFKC) and a unique index holds the normalised name. Two existing users whose names become one
// stop it with a message naming them, and nothing is changed. Runs on whatever server the suite
// uses (embedded PostgreSQL 18, or TEST_DATABASE_URL: checked on Debian's 15).

const MIGRATION = '1764000050000_username-nfkc';
const MIGRATIONS_DIR = fileURLToPath(new URL('../../lib/migrations', import.meta.url));
const name = `cashbook_nfkc_${randomBytes(4).toString('hex')}`;
const url = (() => {
  const u = new URL(inject('adminUrl'));
  u.pathname = `/${name}`;
  return u.toString();
})();

async function query<R extends Record<string, unknown>>(sql: string): Promise<R[]> {
  const pg = (await import('pg')).default;
  const client = new pg.Client({ connectionString: url, application_name: 'cashbook-test-migration' });
  await client.connect();
  try {
    return (await client.query<R>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe(`migration ${MIGRATION}`, () => {
  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name}`);
    await migrate(url);
    // Migrations after it go first (their Down parts, newest first): node-pg-migrate refuses to
    // run one that precedes a migration already run.
    const later = readdirSync(MIGRATIONS_DIR).filter((f) => f.endsWith('.sql') && f > `${MIGRATION}.sql`).sort().reverse();
    for (const file of later) {
      await query(readFileSync(join(MIGRATIONS_DIR, file), 'utf8').split(/^-- Down Migration$/m)[1]!);
      await query(`DELETE FROM pgmigrations WHERE name = '${file.replace(/\.sql$/, '')}'`);
    }
    // Back to the schema before it, with names as the imports used to store them.
    await query(`DROP INDEX users_username_nfkc_key; DELETE FROM pgmigrations WHERE name = '${MIGRATION}'`);
    await query(`INSERT INTO users (id, username, password_hash) VALUES
      (1, 'alice', '!'), (2, 'ａlice', '!'), (3, 'ｂob', '!'), (4, 'ｃarol', '!'), (5, 'ｃａrol', '!'), (6, 'dave', '!')`);
  }, 120_000);

  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  });

  it('names a user whose name grows past 150 characters once normalised, and changes nothing', async () => {
    // U+FDFA is one character that NFKC spells out in 18.
    await query(`INSERT INTO users (id, username, password_hash) VALUES (7, '${'\uFDFA'.repeat(10)}', '!')`);
    await expect(migrate(url)).rejects.toThrow(/usernames longer than 150 characters once NFKC-normalised: user 7 .*\. Rename them/);
    expect(await query('SELECT username FROM users WHERE id = 3')).toEqual([{ username: 'ｂob' }]);
    await query('DELETE FROM users WHERE id = 7');
  });

  it('names the users whose names are one once normalised, and changes nothing', async () => {
    await expect(migrate(url)).rejects.toThrow(
      "users whose usernames are the same once NFKC-normalised: 'alice': user 1 'alice', user 2 'ａlice'; " +
        "'carol': user 4 'ｃarol', user 5 'ｃａrol'. Rename all but one of each",
    );
    expect(await query('SELECT username FROM users WHERE id = 3')).toEqual([{ username: 'ｂob' }]);
    expect(await query(`SELECT count(*)::int AS n FROM pgmigrations WHERE name = '${MIGRATION}'`)).toEqual([{ n: 0 }]);
  });

  it('once they are renamed, normalises every name and holds the normalised one unique', async () => {
    await query("UPDATE users SET username = 'alice2' WHERE id = 2; UPDATE users SET username = 'carol2' WHERE id = 5");
    // It runs first, then the later migrations rolled back in beforeAll.
    expect((await migrate(url))[0]).toBe(MIGRATION);
    expect(await query('SELECT id, username FROM users ORDER BY id')).toEqual([
      { id: '1', username: 'alice' },
      { id: '2', username: 'alice2' },
      { id: '3', username: 'bob' },
      { id: '4', username: 'carol' },
      { id: '5', username: 'carol2' },
      { id: '6', username: 'dave' },
    ]);
    await expect(query("INSERT INTO users (id, username, password_hash) VALUES (100, 'ｄave', '!')")).rejects.toThrow(/users_username_nfkc_key/);
  });
});
