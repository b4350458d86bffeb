import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, beforeEach, describe, expect, inject, it } from 'vitest';
import { databaseFromUrl } from '../../lib/config.js';
import { importDjango, type ImportOptions } from '../../scripts/lib/django-import.js';
import { adminQuery, expectNoAppConnections, expectTotalsMatchRows, resetData } from '../support/db.js';

// A first import reads the old table in its physical order, a range of pages at a time, while
// the old backend goes on writing: rows are updated (moved to other pages, some to pages already
// read, without a new updated_at, as Django's QuerySet.update() does), inserted and deleted
// under it. Nothing may be lost and nothing read twice: every row the old table holds at the end
// is here, and no row is here that the old table never held. No Django is needed for this: the
// old tables are made by SQL, with the columns the import reads.

const name = `import_pages_${randomBytes(4).toString('hex')}`;
let oldUrl: string;

async function old<R extends pg.QueryResultRow>(text: string, values: unknown[] = []): Promise<R[]> {
  const client = new pg.Client({ connectionString: oldUrl, application_name: 'cashbook-test-old' });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

const options = (batchSize: number): ImportOptions => ({
  source: databaseFromUrl(oldUrl, 'cashbook-import-django'),
  target: databaseFromUrl(inject('adminUrl'), 'cashbook-import-django'),
  transactionsTable: 'transactions_transaction',
  currency: 'EUR',
  skipInvalid: false,
  deleteMissing: false,
  batchSize,
});

/** Runs `work` every few milliseconds until `until` settles; returns how many times it ran. */
async function meanwhile(until: Promise<unknown>, work: (i: number) => Promise<unknown>): Promise<number> {
  let settled = false;
  void until.then(
    () => (settled = true),
    () => (settled = true),
  );
  let i = 0;
  while (!settled) {
    await work(i++);
    await new Promise((r) => setTimeout(r, 2));
  }
  return i;
}

describe('import-django, a first import read by pages', () => {
  beforeAll(async () => {
    await adminQuery(`CREATE DATABASE ${name}`);
    const url = new URL(inject('adminUrl'));
    url.pathname = `/${name}`;
    oldUrl = url.toString();
    await old(`CREATE TABLE auth_user (id integer PRIMARY KEY, password varchar(128) NOT NULL, last_login timestamptz,
      username varchar(150) NOT NULL UNIQUE, email varchar(254) NOT NULL, is_active boolean NOT NULL, date_joined timestamptz NOT NULL)`);
    await old(`INSERT INTO auth_user SELECT i, 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=', NULL,
      'pages' || i, '', true, '2020-01-01 00:00:00+00' FROM generate_series(1, 5) i`);
  }, 60_000);

  beforeEach(async () => {
    await resetData();
    await old('DROP TABLE IF EXISTS transactions_transaction');
    // fillfactor 100 and every third row deleted and vacuumed: the pages have room here and
    // there, so an updated row may land on a page before or after its old one.
    await old(`CREATE TABLE transactions_transaction (id uuid PRIMARY KEY, user_id integer NOT NULL REFERENCES auth_user (id),
      type varchar(10) NOT NULL, amount numeric(12, 2) NOT NULL, category varchar(100) NOT NULL, description text NOT NULL,
      date date NOT NULL, payment_mode varchar(20) NOT NULL, created_at timestamptz NOT NULL, updated_at timestamptz NOT NULL)
      WITH (fillfactor = 100, autovacuum_enabled = false)`);
    await old(`INSERT INTO transactions_transaction SELECT gen_random_uuid(), 1 + i % 5, 'expense', 1 + i % 100, 'food',
      'row ' || i, DATE '2024-01-01' + i % 300, 'cash', '2024-01-01 00:00:00+00', '2024-01-01 00:00:00+00' FROM generate_series(1, 6000) i`);
    await old(`DELETE FROM transactions_transaction WHERE description::text ~ '[0369]$'`);
    await old('VACUUM transactions_transaction');
  }, 60_000);

  afterAll(async () => {
    await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await expectNoAppConnections();
  });

  it('loses no row and reads none twice while the old table is written under it', async () => {
    const run = importDjango(options(50));
    const deleted = new Set<string>();
    const writes = await meanwhile(run, async (i) => {
      if (i % 3 === 0) {
        // A longer description: the new version does not fit where the old one was.
        await old(`UPDATE transactions_transaction SET description = description || repeat('x', 40), amount = amount + 1
                   WHERE id = (SELECT id FROM transactions_transaction ORDER BY random() LIMIT 1)`);
      } else if (i % 3 === 1) {
        await old(`INSERT INTO transactions_transaction VALUES (gen_random_uuid(), 2, 'income', 5, 'pay', 'new ${i}', '2024-06-01', 'bank', now(), now())`);
      } else {
        const rows = await old<{ id: string }>(`DELETE FROM transactions_transaction
          WHERE id = (SELECT id FROM transactions_transaction ORDER BY random() LIMIT 1) RETURNING id::text`);
        for (const r of rows) deleted.add(r.id);
      }
    });
    const summary = await run;
    expect(writes).toBeGreaterThan(30);
    expect(summary.transactions.invalid).toBe(0);
    // The rows read again by id are written as the pages' rows are: entries recorded before this
    // backend (no version yet), in totals computed once at the end.
    // (Membership events of earlier test files stay in book_activity: resetData's TRUNCATE takes
    // only the entries' versions with the entries.)
    expect(await adminQuery('SELECT count(*)::int AS n FROM book_activity WHERE transaction_id IS NOT NULL')).toEqual([{ n: 0 }]);
    expect(await adminQuery('SELECT count(*)::int AS n FROM transactions WHERE NOT legacy')).toEqual([{ n: 0 }]);
    await expectTotalsMatchRows('book_totals', 'true');
    // The cutover's delta brings the rows inserted after the import's last read, as after an
    // import by id; it does not bring back a moved row, which has no new created_at or updated_at.
    await importDjango({ ...options(50), since: summary.startedAt });

    const oldRows = await old<{ id: string; description: string }>('SELECT id::text, description FROM transactions_transaction');
    const newRows = await adminQuery<{ id: string; description: string }>('SELECT id::text, description FROM transactions');
    const here = new Map(newRows.map((r) => [r.id, r.description]));
    // Every row the old table holds is here.
    expect(oldRows.filter((r) => !here.has(r.id))).toEqual([]);
    // Nothing else: a row deleted after it was read stays, for the --delete-missing delta.
    const there = new Set(oldRows.map((r) => r.id));
    expect(newRows.filter((r) => !there.has(r.id) && !deleted.has(r.id))).toEqual([]);
    // A row read before its update was read again after the pages; only an update after that
    // leaves an older description here (an update by the app bumps updated_at, for the delta).
    expect(oldRows.filter((r) => here.get(r.id) !== r.description).every((r) => r.description.endsWith('x'))).toBe(true);
  }, 120_000);

  it('stops with nothing written when the old table is rewritten under it (VACUUM FULL)', async () => {
    const run = importDjango(options(50));
    let rewritten = false;
    await meanwhile(run, async () => {
      if (rewritten) return;
      // Once it reads pages (a batch by TID range is running or has run).
      const [reading] = await old<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'cashbook-import-django' AND query LIKE '%ctid > $1::tid%'`,
      );
      if (!reading!.n) return;
      rewritten = true;
      await old('VACUUM FULL transactions_transaction');
    });
    expect(rewritten).toBe(true);
    await expect(run).rejects.toThrow(/rewritten during the import/);
    expect(await adminQuery('SELECT 1 FROM transactions LIMIT 1')).toEqual([]);
  }, 120_000);
});
