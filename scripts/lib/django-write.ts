import type { Db } from '../../lib/db.js';

// Writing the old backend's transactions here: each into its user's default book, keeping its
// id and timestamps. Inserted, or updated when a field changed in the old database; an
// unchanged row is not touched, so a second run writes nothing.

/** The users of `ids` that do not exist here (their transactions cannot be imported). */
export async function missingUsers(db: Db, ids: readonly string[]): Promise<Set<string>> {
  const unique = [...new Set(ids)];
  if (unique.length === 0) return new Set();
  const { rows } = await db.query<{ id: string }>(
    `SELECT i.id::text AS id FROM unnest($1::bigint[]) AS i(id) WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = i.id)`,
    [unique],
  );
  return new Set(rows.map((r) => r.id));
}

/**
 * `json`: the rows, a JSON array of django-rows.ts' DjangoTransaction. `legacy`: the rows it
 * inserts are entries recorded before this backend (a first import's, with its triggers off).
 */
export async function upsertTransactions(db: Db, json: string, legacy = false): Promise<{ inserted: number; updated: number }> {
  const { rows: counts } = await db.query<{ inserted: string; updated: string }>(
    `WITH input AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS x(id uuid, user_id bigint, type text, amount numeric, category text,
         description text, date date, payment_mode text, created_at timestamptz, updated_at timestamptz)
     ), changed AS (
       -- Unchanged rows are left out before the INSERT: ON CONFLICT would lock each of them (a
       -- write per row) even when its WHERE then skips the update.
       SELECT i.* FROM input i WHERE NOT EXISTS (
         SELECT 1 FROM transactions t WHERE t.id = i.id
           AND (t.type, t.amount, t.category, t.description, t.date, t.payment_mode, t.created_at, t.updated_at)
             IS NOT DISTINCT FROM (i.type, i.amount, i.category, i.description, i.date, i.payment_mode, i.created_at, i.updated_at))
     ), written AS (
       INSERT INTO transactions AS t (id, user_id, book_id, type, amount, category, description, date, payment_mode, created_at, updated_at,
                                      created_by, updated_by, legacy)
       SELECT i.id, i.user_id, b.id, i.type, i.amount, i.category, i.description, i.date, i.payment_mode, i.created_at, i.updated_at,
              i.user_id, i.user_id, $2::boolean
       FROM changed i JOIN books b ON b.user_id = i.user_id AND b.is_default
       ON CONFLICT (id) DO UPDATE SET
         updated_by = excluded.updated_by, type = excluded.type, amount = excluded.amount, category = excluded.category, description = excluded.description,
         date = excluded.date, payment_mode = excluded.payment_mode, created_at = excluded.created_at, updated_at = excluded.updated_at
       WHERE (t.type, t.amount, t.category, t.description, t.date, t.payment_mode, t.created_at, t.updated_at)
         IS DISTINCT FROM (excluded.type, excluded.amount, excluded.category, excluded.description, excluded.date,
                           excluded.payment_mode, excluded.created_at, excluded.updated_at)
       RETURNING xmax = 0 AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
    [json, legacy],
  );
  return { inserted: Number(counts[0]?.inserted ?? 0), updated: Number(counts[0]?.updated ?? 0) };
}

/**
 * The delta at cutover also carries deletions: ids of `ids` that the old database no longer has.
 * Used by the sweep, which compares the two id sets range by range; `keepUsers`' transactions
 * are never deleted.
 */
export async function deleteTransactions(db: Db, ids: readonly string[], keepUsers: readonly string[] = []): Promise<number> {
  if (ids.length === 0) return 0;
  const { rowCount } = await db.query('DELETE FROM transactions WHERE id = ANY($1::uuid[]) AND user_id <> ALL($2::bigint[])', [
    ids,
    keepUsers,
  ]);
  return rowCount ?? 0;
}

/** The ids this database holds in the range (after, upTo] (upTo undefined: to the end). */
export async function targetIdsInRange(db: Db, after: string, upTo: string | undefined): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id::text AS id FROM transactions WHERE id > $1::uuid ${upTo ? 'AND id <= $2::uuid' : ''} ORDER BY id`,
    upTo ? [after, upTo] : [after],
  );
  return rows.map((r) => r.id);
}

/**
 * The triggers a first import's load goes without: the totals are computed once at the end, and
 * its rows are `legacy` (no version yet). The update triggers too, for the rows it reads again
 * (upsertTransactions with `legacy`).
 */
const FIRST_IMPORT_OFF = ['transactions_totals_insert', 'transactions_history_insert', 'transactions_totals_update', 'transactions_history_update'];

/**
 * A first import (this database holds no transaction yet) loads without the write costs that
 * a million rows pay one by one: the non-unique indexes of `transactions` (two of them trigram
 * GIN indexes) and its foreign keys are dropped, and the per-statement totals and history
 * triggers disabled: the rows are `legacy`, entries recorded before this backend, whose "created"
 * version is shown from the row and written (`imported`) on their first change, as for the rows
 * the shared-books migration found (1764000080000_shared-books.sql). A million history rows
 * written during the load cost a third of its time. `finishFirstImport` then computes the
 * totals by one aggregate and puts the rest back (each
 * foreign key checked by one join, each index built sorted). All of it in the caller's one
 * transaction: a failure anywhere rolls back to the empty table with every index, constraint
 * and trigger in place, and a re-run starts over. Meanwhile `transactions` is held exclusively,
 * and so are `users` and `books` (dropping a foreign key locks the table it references): the
 * new backend waits until the commit, which the runbook allows (it is not public yet).
 * Returns the statements that put everything back, or undefined when the table is not empty
 * (an import into a database that already holds transactions writes batch by batch).
 */
export async function startFirstImport(db: Db): Promise<string[] | undefined> {
  const empty = async () => (await db.query('SELECT 1 FROM transactions LIMIT 1')).rows.length === 0;
  if (!(await empty())) return undefined;
  // Looked at again under the lock: no API write may slip in between the look and the load.
  await db.query('LOCK TABLE transactions IN ACCESS EXCLUSIVE MODE');
  if (!(await empty())) return undefined;
  // The foreign keys are checked once, by one join each when they are added back, instead of
  // by two lookups per row; the indexes are built once, sorted, instead of entry by entry.
  const { rows } = await db.query<{ drop: string; restore: string }>(
    `SELECT format('ALTER TABLE transactions DROP CONSTRAINT %I', conname) AS drop,
            format('ALTER TABLE transactions ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS restore
     FROM pg_constraint WHERE conrelid = 'transactions'::regclass AND contype = 'f'
     UNION ALL
     SELECT * FROM (SELECT format('DROP INDEX %s', i.indexrelid::regclass), pg_get_indexdef(i.indexrelid)
       FROM pg_index i WHERE i.indrelid = 'transactions'::regclass AND NOT i.indisunique ORDER BY i.indexrelid) AS i`,
  );
  for (const r of rows) await db.query(r.drop);
  for (const trigger of FIRST_IMPORT_OFF) await db.query(`ALTER TABLE transactions DISABLE TRIGGER ${trigger}`);
  return rows.map((r) => r.restore);
}

/** The end of a first import, in its transaction: the totals from one aggregate, the trigger back on, the keys and indexes back. */
export async function finishFirstImport(db: Db, restore: readonly string[]): Promise<void> {
  // What the insert trigger (1764000020000_ledger-totals.sql) would have added, statement by
  // statement, summed once: the same keys and sums, so the totals are the same to the cent.
  await db.query(
    `INSERT INTO book_totals AS p (book_id, grain, starts, category, type, entries, net)
     SELECT t.book_id, g.grain,
            CASE g.grain WHEN 0 THEN t.date
                         WHEN 1 THEN date_trunc('month', t.date::timestamp)::date
                         ELSE date_trunc('year', t.date::timestamp)::date END,
            CASE g.grain WHEN 1 THEN t.category ELSE '' END,
            CASE g.grain WHEN 1 THEN t.type ELSE '' END,
            count(*), sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END)
     FROM transactions t CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
     GROUP BY 1, 2, 3, 4, 5
     ORDER BY 1, 2, 3, 4, 5
     ON CONFLICT (book_id, grain, starts, category, type) DO UPDATE
       SET entries = p.entries + EXCLUDED.entries, net = p.net + EXCLUDED.net`,
  );
  for (const trigger of FIRST_IMPORT_OFF) await db.query(`ALTER TABLE transactions ENABLE TRIGGER ${trigger}`);
  for (const statement of restore) await db.query(statement);
}

/**
 * A first import's batch: a plain insert (the table was empty and is held exclusively: no row to
 * compare with) of `legacy` rows (startFirstImport).
 */
export async function insertTransactions(db: Db, json: string): Promise<number> {
  const { rowCount } = await db.query(
    `INSERT INTO transactions (id, user_id, book_id, type, amount, category, description, date, payment_mode, created_at, updated_at,
                               created_by, updated_by, legacy)
     SELECT i.id, i.user_id, b.id, i.type, i.amount, i.category, i.description, i.date, i.payment_mode, i.created_at, i.updated_at,
            i.user_id, i.user_id, true
     FROM json_to_recordset($1::json) AS i(id uuid, user_id bigint, type text, amount numeric, category text,
       description text, date date, payment_mode text, created_at timestamptz, updated_at timestamptz)
     JOIN books b ON b.user_id = i.user_id AND b.is_default`,
    [json],
  );
  return rowCount ?? 0;
}
