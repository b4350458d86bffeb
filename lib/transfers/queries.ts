import { randomUUID } from 'node:crypto';
import type { z } from 'zod';
import { errorCode, type Db } from '../db.js';
import { InvalidToken, NotFound, RoleRequired, ValidationError } from '../errors.js';
import { activeUser, type Caller } from '../auth/active-user.js';
import { mayEditEntry, memberBooks, memberRole, roleIn } from '../books/access.js';
import { savedResponseCte, type SaveAs } from '../idempotency.js';
import { isoTimestamp } from '../sql.js';
import { unknownBookFilter } from '../transactions/filters.js';
import { columns as entryColumns } from '../transactions/queries.js';
import type { CreateTransferInput, PatchTransferInput, TransferFilters, transferOutput } from './schema.js';

// Data access for transfers. A transfer is the pair of entries sharing transactions.transfer_id
// (migration 1764000070000): the expense `f` in from_book and the income `t` in to_book. Every
// statement writes, edits or deletes BOTH rows at once, so the totals triggers see the pair in
// one statement and a transfer never changes the sum of the user's balances (between books of
// one currency). Scoped to the user like every query: another user's transfer is a 404.

export type Transfer = z.output<typeof transferOutput>;

/** The output's columns from the pair `f` (expense) and `t` (income), in the schema's order. */
const transferColumns = (f: string, t: string) => `${f}.transfer_id AS id, ${f}.book_id AS from_book, ${t}.book_id AS to_book,
  ${f}.amount::text AS amount, ${t}.amount::text AS to_amount, ${f}.date::text AS date,
  ${f}.description AS description, ${f}.category AS category, ${f}.payment_mode AS payment_mode,
  ${isoTimestamp(`${f}.created_at`)} AS created_at, ${isoTimestamp(`greatest(${f}.updated_at, ${t}.updated_at)`)} AS updated_at,
  (SELECT row_to_json(e) FROM (SELECT ${entryColumns(f)}) AS e) AS from_entry,
  (SELECT row_to_json(e) FROM (SELECT ${entryColumns(t)}) AS e) AS to_entry`;

/** The pair of one transfer as `f` and `t`, from a relation of entries (the table, or a CTE's rows). */
const pairOf = (rows: string) => `${rows} f JOIN ${rows} t ON t.transfer_id = f.transfer_id AND t.type = 'income' AND f.type = 'expense'`;

const invalidPk = (field: string, id: string) => new ValidationError({ [field]: [`Invalid pk "${id}" - object does not exist.`] });

function translateWriteError(err: unknown): unknown {
  const constraint = (err as { constraint?: string }).constraint;
  // A book deleted between the statement's check and its insert.
  if (errorCode(err) === '23503' && constraint === 'transactions_book_fkey') {
    return new ValidationError({ non_field_errors: ['One of the books was deleted meanwhile.'] });
  }
  if (errorCode(err) === '23503' || errorCode(err) === '23502') return new InvalidToken('User not found', { cause: err });
  return err;
}

interface Verdict {
  refused: 'from_book' | 'to_book' | 'from_role' | 'to_role' | 'currency' | 'same_currency' | null;
  from_currency: string | null;
  to_currency: string | null;
}

/** 403: a transfer writes an entry in each book, so it needs the right to record in both. */
const recordInBoth = (field: string) =>
  new RoleRequired(`You must be an owner, admin or operator of both books to transfer between them (${field}).`);

/** 403: a member who may not change one of the transfer's entries. */
const mayNotChange = (action: string) =>
  new RoleRequired(
    `You may ${action} a transfer only when you may ${action} both its entries: as an owner or admin of both books, or as the operator who recorded them.`,
  );

/**
 * POST: ONE statement reads both books (with the caller's role in each, or nothing), decides, and inserts the two
 * entries in one INSERT (with the Idempotency-Key's saved response when there is one). `id`,
 * chosen before sending, lets the caller find the transfer if the connection is lost.
 */
export async function insertTransfer(db: Db, user: Caller, input: CreateTransferInput, save?: SaveAs, id?: string): Promise<Transfer> {
  const values: unknown[] = [
    user.id, input.from_book, input.to_book, input.amount, input.to_amount ?? null,
    input.category, input.description, input.date ?? null, input.payment_mode, id ?? randomUUID(), user.issuedAt,
  ];
  const saved = save ? `, ${savedResponseCte(values, save, 'transfer')}` : '';
  let rows: Array<Verdict & Partial<Transfer>>;
  try {
    ({ rows } = await db.query(
      `WITH verdict AS (
         SELECT f.id AS from_id, f.currency AS from_currency, t.id AS to_id, t.currency AS to_currency,
                f.user_id AS from_account, t.user_id AS to_account,
                CASE WHEN f.id IS NULL THEN 'from_book' WHEN t.id IS NULL THEN 'to_book'
                     WHEN NOT ${roleIn('f.role', 'record')} THEN 'from_role' WHEN NOT ${roleIn('t.role', 'record')} THEN 'to_role'
                     WHEN f.currency <> t.currency AND $5::numeric IS NULL THEN 'currency'
                     WHEN f.currency = t.currency AND $5::numeric <> $4::numeric THEN 'same_currency' END AS refused
         FROM (SELECT 1) AS one
         LEFT JOIN (SELECT b.*, ${memberRole('b.id', '$1')} AS role FROM books b WHERE b.id = $2::uuid AND b.id IN ${memberBooks('$1')}) AS f ON true
         LEFT JOIN (SELECT b.*, ${memberRole('b.id', '$1')} AS role FROM books b WHERE b.id = $3::uuid AND b.id IN ${memberBooks('$1')}) AS t ON true
       ), entries AS (
         INSERT INTO transactions AS x (id, user_id, book_id, type, amount, category, description, date, payment_mode, transfer_id, created_by, updated_by)
         SELECT gen_random_uuid(), s.account, s.book, s.type, s.amount, $6, $7, COALESCE($8::date, (now() AT TIME ZONE 'UTC')::date), $9,
                $10::uuid, $1, $1
         FROM verdict AS v
         CROSS JOIN LATERAL (VALUES (v.from_id, v.from_account, 'expense', $4::numeric), (v.to_id, v.to_account, 'income', COALESCE($5::numeric, $4::numeric)))
           AS s (book, account, type, amount)
         WHERE v.refused IS NULL AND ${activeUser('$1', '$11')}
         RETURNING x.*
       ), transfer AS (
         SELECT ${transferColumns('f', 't')} FROM ${pairOf('entries')}
       )${saved}
       SELECT v.refused, v.from_currency, v.to_currency, tr.* FROM verdict v LEFT JOIN transfer tr ON true
       WHERE ${activeUser('$1', '$11')}`,
      values,
    ));
  } catch (err) {
    throw translateWriteError(err);
  }
  const { refused, from_currency, to_currency, ...transfer } = rows[0]!;
  if (refused === 'from_book') throw invalidPk('from_book', input.from_book);
  if (refused === 'to_book') throw invalidPk('to_book', input.to_book);
  if (refused === 'from_role') throw recordInBoth('from_book');
  if (refused === 'to_role') throw recordInBoth('to_book');
  if (refused === 'currency') {
    throw new ValidationError({
      to_amount: [`The books have different currencies (${from_currency} and ${to_currency}): give to_amount, what to_book receives in ${to_currency}.`],
    });
  }
  if (refused === 'same_currency') throw sameCurrency(from_currency!);
  return transfer as Transfer;
}

const sameCurrency = (currency: string) =>
  new ValidationError({ to_amount: [`Both books are in ${currency}: to_amount, when given, must equal amount.`] });

export async function findTransfer(db: Db, user: Caller, id: string): Promise<Transfer> {
  const { rows } = await db.query<Transfer>(
    `SELECT ${transferColumns('f', 't')} FROM ${pairOf('transactions')}
     WHERE f.transfer_id = $1 AND (f.book_id IN ${memberBooks('$2')} OR t.book_id IN ${memberBooks('$2')}) AND ${activeUser('$2', '$3')}`,
    [id, user.id, user.issuedAt],
  );
  if (!rows[0]) throw new NotFound();
  return rows[0];
}

/**
 * Newest first (date, then creation), from or to `book`, within the dates; one statement. A
 * transfer is listed once when the caller is a member of either of its books: the lead row, in
 * whose order the page is read, is the entry in the caller's book (the sending side when both
 * are). With `book` (one the caller is a member of), the count comes from transfer_totals (day
 * rows in a date range, else year rows): each transfer is one entry of the book. Without it, the
 * transfers are counted: the totals count entries per book, and a transfer whose other book the
 * caller is not a member of counts once, not twice, which no totals row tells.
 */
export async function listTransfers(
  db: Db,
  user: Caller,
  filters: TransferFilters,
): Promise<{ count: number; rows: Transfer[] }> {
  const values: unknown[] = [user.id, user.issuedAt, filters.page_size, (filters.page - 1) * filters.page_size];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  // Conditions on the lead entry `e`.
  const conditions = ['e.transfer_id IS NOT NULL'];
  const counted = [];
  let bookFound = 'true';
  if (filters.book) {
    const book = param(filters.book);
    conditions.push(`e.book_id = ${book}::uuid`);
    bookFound = `${book}::uuid IN ${memberBooks('$1')}`;
    counted.push(`a.book_id = ${book}::uuid`);
  } else {
    // The sending side leads, unless the caller is not a member of its book.
    conditions.push(
      `(e.type = 'expense' OR NOT EXISTS (SELECT 1 FROM transactions o WHERE o.transfer_id = e.transfer_id AND o.type = 'expense' AND o.book_id IN ${memberBooks('$1')}))`,
    );
  }
  if (filters.date_after || filters.date_before) {
    counted.push('a.grain = 0');
    if (filters.date_after) {
      const after = param(filters.date_after);
      conditions.push(`e.date >= ${after}::date`);
      counted.push(`a.starts >= ${after}::date`);
    }
    if (filters.date_before) {
      const before = param(filters.date_before);
      conditions.push(`e.date <= ${before}::date`);
      counted.push(`a.starts <= ${before}::date`);
    }
  } else {
    counted.push('a.grain = 2');
  }
  const order = 'e.date DESC, e.created_at DESC, e.id DESC';
  // Without `book`: each member book's first OFFSET + LIMIT lead entries, off its own index
  // (transactions_transfer_book_idx), then the page of their merge; not a sort of every transfer.
  const leads = filters.book
    ? 'transactions e'
    : `(SELECT l.* FROM ${memberBooks('$1')} AS mb CROSS JOIN LATERAL (
          SELECT e.* FROM transactions e WHERE e.book_id = mb.book_id AND ${conditions.join(' AND ')}
          ORDER BY ${order} LIMIT $3::bigint + $4::bigint
        ) AS l) AS e`;
  const source = `${leads} JOIN (${pairOf('transactions')}) ON f.transfer_id = e.transfer_id`;
  const total = filters.book
    ? `(SELECT COALESCE(sum(a.entries), 0) FROM transfer_totals a WHERE ${counted.join(' AND ')})`
    : `(SELECT count(*) FROM transactions e WHERE e.book_id IN ${memberBooks('$1')} AND ${conditions.join(' AND ')})`;
  const where = filters.book ? `WHERE ${conditions.join(' AND ')}` : '';
  const { rows } = await db.query<Transfer & { total: string; book_found: boolean }>(
    `WITH page AS (
       SELECT ${transferColumns('f', 't')}, e.date AS sort_date, e.created_at AS sort_created, e.id AS sort_id
       FROM ${source} ${where}
       ORDER BY ${order} LIMIT $3 OFFSET $4
     )
     SELECT meta.book_found, meta.total, page.* FROM (SELECT ${bookFound} AS book_found, ${total} AS total) AS meta LEFT JOIN page ON true
     WHERE ${activeUser('$1', '$2')}
     ORDER BY page.sort_date DESC, page.sort_created DESC, page.sort_id DESC`,
    values,
  );
  const head = rows[0]!;
  if (!head.book_found) throw unknownBookFilter();
  const count = Number(head.total);
  if (head.id === null) return { count, rows: [] };
  return {
    count,
    rows: rows.map(({ total: _t, book_found: _b, sort_date: _d, sort_created: _c, sort_id: _i, ...row }: Record<string, unknown>) => row as Transfer),
  };
}

/**
 * The CTE `locked`: both entries of transfer $1, when user $2 is a member of either book, locked
 * FOR UPDATE expense side first, the one order every statement writing a pair uses
 * (lib/transactions/queries.ts lockEntry, lib/books/queries.ts deleteBook): two statements
 * meeting one pair from opposite ends would deadlock. Its rows are the entries' latest versions
 * (re-read once locked), so the pair's amounts are read from it, not from the statement's
 * snapshot; each carries `may_edit`, whether the caller may edit or delete it.
 */
const lockPair = `locked AS (
       SELECT p.*, COALESCE(${mayEditEntry(memberRole('p.book_id', '$2'), 'p', '$2')}, false) AS may_edit
       FROM transactions p
       WHERE p.transfer_id = $1 AND EXISTS (SELECT 1 FROM transactions e WHERE e.transfer_id = $1 AND e.book_id IN ${memberBooks('$2')})
       ORDER BY p.type FOR UPDATE
     )`;

/**
 * PATCH: ONE statement updates both entries. `amount` moves both sides while they carry the
 * same amount (always so between books of one currency); `to_amount` moves the receiving side,
 * and between books of one currency must equal the amount. Date, description, category and
 * payment mode are set on both.
 */
export async function updateTransfer(db: Db, user: Caller, id: string, changes: PatchTransferInput): Promise<Transfer> {
  const values: unknown[] = [id, user.id, user.issuedAt, changes.amount ?? null, changes.to_amount ?? null];
  const param = (value: unknown) => {
    values.push(value);
    return `$${values.length}`;
  };
  const sets = ['updated_at = now()', 'updated_by = $2', `amount = CASE x.type WHEN 'expense' THEN v.new_from ELSE v.new_to END`];
  if (changes.date !== undefined) sets.push(`date = ${param(changes.date)}::date`);
  for (const column of ['description', 'category', 'payment_mode'] as const) {
    if (changes[column] !== undefined) sets.push(`${column} = ${param(changes[column])}`);
  }
  const { rows } = await db.query<Partial<Transfer> & { allowed: boolean; refused: boolean; currency: string }>(
    `WITH ${lockPair}, pair AS (
       SELECT f.transfer_id, f.amount AS from_amount, t.amount AS to_amount, fb.currency, fb.currency = tb.currency AS same_currency,
              f.may_edit AND t.may_edit AS allowed
       FROM ${pairOf('locked')} JOIN books fb ON fb.id = f.book_id JOIN books tb ON tb.id = t.book_id
       WHERE f.transfer_id = $1
     ), plan AS (
       SELECT p.*, COALESCE($4::numeric, p.from_amount) AS new_from,
              COALESCE($5::numeric, CASE WHEN p.from_amount = p.to_amount OR (p.same_currency AND $4::numeric IS NOT NULL)
                                         THEN COALESCE($4::numeric, p.from_amount) ELSE p.to_amount END) AS new_to
       FROM pair p
     ), v AS (
       SELECT plan.*, (plan.same_currency AND $5::numeric IS NOT NULL AND plan.new_from <> plan.new_to) AS refused FROM plan
     ), updated AS (
       UPDATE transactions x SET ${sets.join(', ')} FROM v
       WHERE x.id IN (SELECT id FROM locked) AND x.transfer_id = v.transfer_id AND v.allowed AND NOT v.refused AND ${activeUser('$2', '$3')}
       RETURNING x.*
     ), transfer AS (
       SELECT ${transferColumns('f', 't')} FROM ${pairOf('updated')}
     )
     SELECT v.allowed, v.refused, v.currency, tr.* FROM v LEFT JOIN transfer tr ON true`,
    values,
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (!row.allowed) throw mayNotChange('edit');
  if (row.refused) throw sameCurrency(row.currency);
  const { allowed: _a, refused: _r, currency: _c, ...transfer } = row;
  return transfer as Transfer;
}

/**
 * Both entries, in one statement, claimed for the caller in entry_deletions (the history
 * trigger's actor for each "deleted" version).
 */
export async function deleteTransfer(db: Db, user: Caller, id: string): Promise<void> {
  const { rows } = await db.query<{ allowed: boolean; deleted: number }>(
    `WITH ${lockPair}, verdict AS (
       SELECT bool_and(l.may_edit) AS allowed FROM locked l HAVING count(*) > 0
     ), claims AS (
       INSERT INTO entry_deletions (transaction_id, actor_id)
       SELECT l.id, $2 FROM locked l, verdict WHERE verdict.allowed
       ON CONFLICT (transaction_id) DO UPDATE SET actor_id = EXCLUDED.actor_id
     ), deleted AS (
       DELETE FROM transactions t USING verdict
       WHERE t.id IN (SELECT id FROM locked) AND t.transfer_id = $1 AND verdict.allowed AND ${activeUser('$2', '$3')}
       RETURNING t.id
     )
     SELECT verdict.allowed, (SELECT count(*) FROM deleted)::int AS deleted FROM verdict`,
    [id, user.id, user.issuedAt],
  );
  const row = rows[0];
  if (!row) throw new NotFound();
  if (!row.allowed) throw mayNotChange('delete');
  if (!row.deleted) throw new NotFound();
}
