import { activeUser, type Caller } from '../auth/active-user.js';
import { memberRole, userRef } from '../books/access.js';
import type { Db } from '../db.js';
import { NotFound } from '../errors.js';
import { isoTimestamp } from '../sql.js';
import type { Activity, ActivityFilters } from './schema.js';

// A book's activity (its entries' versions and its membership changes), newest first, in ONE
// statement with the caller's membership check: any active member reads it; anyone else gets
// the 404 of a missing book.
//
// Newest first is the order the changes were recorded (id DESC), so the page is read straight
// off book_activity_book_idx (book_id, id DESC), or book_activity_actor_idx (book_id, actor_id,
// id DESC) with ?actor=: an index range scan of offset + page_size rows. `at` is when the change
// happened, and an imported "created" version carries its entry's created_at, so `at` is not in
// id order and the date filters are conditions on the scanned rows, not bounds of the range:
// with ?date_after=/?date_before= the scan also passes over the newer rows outside the dates.
//
// The count (DRF's `count`) counts the matching rows of the book: an index-only scan of the same
// index (book_activity is append-only, so its pages stay all-visible once vacuumed), O(the
// book's matching activity) in index entries, a few ms per 100,000; with a date filter it also
// reads each of the book's rows (`at` is not in the index), O(the book's activity) in heap rows.

interface Row {
  allowed: boolean;
  total: string | null;
  id: string | null;
  at: string;
  actor: Activity['actor'];
  action: Activity['action'];
  entry: string | null;
  version: number | null;
  member: Activity['member'];
  changes: Activity['changes'];
  imported: boolean;
}

export async function bookActivity(db: Db, user: Caller, bookId: string, filters: ActivityFilters): Promise<{ count: number; rows: Activity[] }> {
  const values: unknown[] = [bookId, user.id, user.issuedAt, filters.page_size, (filters.page - 1) * filters.page_size];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const conditions = ['a.book_id = $1'];
  if (filters.actor !== undefined) conditions.push(`a.actor_id = ${param(filters.actor)}`);
  // UTC days, whatever the session's TimeZone: [date_after 00:00, date_before + 1 day 00:00).
  if (filters.date_after) conditions.push(`a.at >= (${param(filters.date_after)}::date::timestamp AT TIME ZONE 'UTC')`);
  if (filters.date_before) conditions.push(`a.at < ((${param(filters.date_before)}::date + 1)::timestamp AT TIME ZONE 'UTC')`);
  const where = conditions.join(' AND ');
  const { rows } = await db.query<Row>(
    `WITH allowed AS (
       SELECT ${memberRole('$1', '$2')} IS NOT NULL AS ok
     ), page AS (
       SELECT a.* FROM book_activity a WHERE ${where} AND (SELECT ok FROM allowed)
       ORDER BY a.id DESC LIMIT $4 OFFSET $5
     ), meta AS (
       SELECT ok AS allowed, CASE WHEN ok THEN (SELECT count(*) FROM book_activity a WHERE ${where}) END AS total FROM allowed
     )
     SELECT meta.allowed, meta.total, p.id, ${isoTimestamp('p.at')} AS at, ${userRef('p.actor_id')} AS actor, p.action,
            p.transaction_id AS entry, p.version, ${userRef('p.subject_id')} AS member, p.changes, p.imported
     FROM meta LEFT JOIN page p ON true
     WHERE ${activeUser('$2', '$3')}
     ORDER BY p.id DESC`,
    values,
  );
  const head = rows[0];
  if (!head?.allowed) throw new NotFound();
  const count = Number(head.total ?? 0);
  if (head.id === null) return { count, rows: [] };
  return {
    count,
    rows: rows.map(({ id, at, actor, action, entry, version, member, changes, imported }) => ({
      id: Number(id),
      at,
      actor,
      action,
      entry,
      version,
      member,
      changes,
      ...(imported ? { imported: true as const } : {}),
    })),
  };
}
