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
// Newest first is the order the changes were recorded (id DESC). The page is an index range
// scan of book_activity_book_idx (book_id, id DESC), or with ?actor= book_activity_actor_idx
// (book_id, actor_id, id DESC), reading offset + page_size entries (see `conditions` for how
// the plan is held to it). `at` is when the change happened, and an imported "created" version
// carries its entry's created_at, so `at` is not in id order: the date filters are conditions
// on the scanned rows, not bounds of the range, and with them the scan also passes over the
// book's newer changes outside the dates.
//
// The count (DRF's `count`) counts the book's matching rows, in the same statement: an
// index-only scan of the same index (book_activity is append-only, so its pages stay
// all-visible once vacuumed): O(the book's matching changes) in index entries, about 10 ms per
// 40,000 on a laptop. With a date filter it must read `at` from each of the book's rows
// (O(the book's changes) in heap rows; PostgreSQL may choose a sequential scan when the book is
// most of the table). No per-book counter is kept: it would be one more row every write of
// every entry updates, a hot row for concurrent writers of one book.

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
  // BETWEEN, not `=`: with `=`, PostgreSQL drops book_id from the ORDER BY (a constant) and may
  // then read the page by walking the primary key backwards, filtering out the other books'
  // rows (it did, for a book holding half the table): for a small book whose changes are old,
  // that is a scan of the whole table. As a range, book_id stays in the order, which only
  // book_activity_book_idx (book_id, id DESC) or, with ?actor=, book_activity_actor_idx
  // (book_id, actor_id, id DESC) yields: the page is a range scan of the book's entries in it.
  const conditions = ['a.book_id BETWEEN $1 AND $1'];
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
       ORDER BY a.book_id, a.id DESC LIMIT $4 OFFSET $5
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
