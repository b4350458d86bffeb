import type { Db } from '../../lib/db.js';
import type { DjangoTransaction } from './django-rows.js';

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

export async function upsertTransactions(
  db: Db,
  rows: readonly DjangoTransaction[],
): Promise<{ inserted: number; updated: number }> {
  if (rows.length === 0) return { inserted: 0, updated: 0 };
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
       INSERT INTO transactions AS t (id, user_id, book_id, type, amount, category, description, date, payment_mode, created_at, updated_at)
       SELECT i.id, i.user_id, b.id, i.type, i.amount, i.category, i.description, i.date, i.payment_mode, i.created_at, i.updated_at
       FROM changed i JOIN books b ON b.user_id = i.user_id AND b.is_default
       ON CONFLICT (id) DO UPDATE SET
         type = excluded.type, amount = excluded.amount, category = excluded.category, description = excluded.description,
         date = excluded.date, payment_mode = excluded.payment_mode, created_at = excluded.created_at, updated_at = excluded.updated_at
       WHERE (t.type, t.amount, t.category, t.description, t.date, t.payment_mode, t.created_at, t.updated_at)
         IS DISTINCT FROM (excluded.type, excluded.amount, excluded.category, excluded.description, excluded.date,
                           excluded.payment_mode, excluded.created_at, excluded.updated_at)
       RETURNING xmax = 0 AS inserted
     )
     SELECT count(*) FILTER (WHERE inserted) AS inserted, count(*) FILTER (WHERE NOT inserted) AS updated FROM written`,
    [JSON.stringify(rows)],
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
