import { activeUser, type Caller } from '../auth/active-user.js';
import { memberRole, userRef } from '../books/access.js';
import type { Db } from '../db.js';
import { NotFound } from '../errors.js';
import { isoTimestamp } from '../sql.js';
import type { EntryVersion } from './schema.js';

// An entry's versions, oldest first, in ONE statement: the caller's membership is read beside
// them. The book that decides is the entry's book now, or, for a deleted entry, the book of its
// last version (the "deleted" one): a member of it still reads the history at the same URL;
// anyone else (never invited, pending, removed, left) gets the 404 of a missing entry.
//
// The versions are an index range scan on book_activity_version_idx (transaction_id, version):
// O(versions), whatever the book's size. An entry recorded before history existed (`legacy`)
// and never changed since has no version yet: its "created" version is answered from the row,
// exactly as the trigger will write it on its first change (cashbook_entry_whole, actor the
// book's account, at its created_at, `imported`).

interface Row {
  allowed: boolean;
  version: number | null;
  action: EntryVersion['action'];
  at: string;
  actor: EntryVersion['actor'];
  changes: EntryVersion['changes'];
  imported: boolean;
}

export async function entryHistory(db: Db, user: Caller, id: string): Promise<EntryVersion[]> {
  const { rows } = await db.query<Row>(
    `WITH target AS (
       SELECT COALESCE(
         (SELECT t.book_id FROM transactions t WHERE t.id = $1),
         (SELECT v.book_id FROM book_activity v WHERE v.transaction_id = $1 ORDER BY v.version DESC LIMIT 1)
       ) AS book_id
     ), allowed AS (
       SELECT ${memberRole('target.book_id', '$2')} IS NOT NULL AS ok FROM target
     ), versions AS (
       SELECT v.version, v.action, v.at, v.actor_id, v.changes, v.imported
       FROM book_activity v WHERE v.transaction_id = $1 AND (SELECT ok FROM allowed)
       UNION ALL
       SELECT 1, 'created', t.created_at, t.user_id, cashbook_entry_whole(t, true), true
       FROM transactions t
       WHERE t.id = $1 AND t.legacy AND (SELECT ok FROM allowed)
         AND NOT EXISTS (SELECT 1 FROM book_activity v WHERE v.transaction_id = $1)
     )
     SELECT a.ok AS allowed, h.version, h.action, ${isoTimestamp('h.at')} AS at, ${userRef('h.actor_id')} AS actor, h.changes, h.imported
     FROM allowed a LEFT JOIN versions h ON true
     WHERE ${activeUser('$2', '$3')}
     ORDER BY h.version`,
    [id, user.id, user.issuedAt],
  );
  if (!rows[0]?.allowed) throw new NotFound();
  return rows
    .filter((r) => r.version !== null)
    .map(({ version, action, at, actor, changes, imported }) => ({
      version: version!,
      action,
      at,
      actor,
      changes,
      ...(imported ? { imported: true as const } : {}),
    }));
}
