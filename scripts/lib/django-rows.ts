import { normalizeUsername, type DjangoUser } from '../../lib/auth/import.js';
import type { Db } from '../../lib/db.js';

// The old Django backend's tables as the import reads them (auth_user and the transactions
// app's table), and the checks a row must pass before it is written here. Every value is read
// as text — timestamps, dates, amounts — so nothing is rounded on the way through JavaScript.

export interface DjangoTransaction {
  id: string;
  user_id: string;
  type: string;
  amount: string;
  category: string;
  description: string;
  date: string;
  payment_mode: string;
  created_at: string;
  updated_at: string;
}

export interface Rejected {
  table: 'auth_user' | 'transactions';
  id: string;
  reason: string;
}

/** A table name from the command line (optionally schema-qualified), quoted for SQL. */
export function quoteTable(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 || parts.some((p) => p === '')) throw new Error(`not a table name: ${name}`);
  return parts.map((p) => `"${p.replaceAll('"', '""')}"`).join('.');
}

export const FIRST_UUID = '00000000-0000-0000-0000-000000000000';

/** The next batch of auth_user after `afterId`, in id order (keyset: no OFFSET, no full read). */
export async function readUsers(db: Db, afterId: number, limit: number): Promise<Array<DjangoUser & { id: number }>> {
  const { rows } = await db.query<Omit<DjangoUser, 'id'> & { id: string }>(
    `SELECT id, username, email, password, is_active, date_joined::text AS date_joined, last_login::text AS last_login
     FROM auth_user WHERE id > $1 ORDER BY id LIMIT $2`,
    [afterId, limit],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

/** A transaction's columns as the import reads them: every value as text or JSON's own. */
const COLUMNS = `id, user_id::text AS user_id, type, amount::text AS amount, category, description, date, payment_mode, created_at, updated_at`;

/**
 * The next batch of transactions after `afterId`; with `since`, only rows created or updated
 * after it. The server sends the batch as one JSON text (half the cost of row-by-row output on
 * this machine); amounts come as text so no float ever holds one, timestamps as ISO 8601 with
 * microseconds. The text is returned too: a batch written whole is sent on as it came. `last`
 * is the batch's greatest id, where the next batch starts: json_agg is not asked to keep the
 * subquery's order (sorting the batch again cost a fifth of the read), so it is not taken from
 * the array's end. A uuid's text compares as its bytes do.
 */
export async function readTransactions(
  db: Db,
  table: string,
  afterId: string,
  limit: number,
  since: string | undefined,
): Promise<{ rows: DjangoTransaction[]; json: string; last: string | undefined }> {
  const { rows } = await db.query<{ batch: string | null }>(
    `SELECT json_agg(x)::text AS batch FROM (
       SELECT ${COLUMNS}
       FROM ${quoteTable(table)}
       WHERE id > $1::uuid ${since ? 'AND (created_at > $3::timestamptz OR updated_at > $3::timestamptz)' : ''}
       ORDER BY id LIMIT $2) x`,
    since ? [afterId, limit, since] : [afterId, limit],
  );
  const json = rows[0]?.batch ?? '[]';
  const batch = JSON.parse(json) as DjangoTransaction[];
  let last: string | undefined;
  for (const t of batch) if (last === undefined || t.id > last) last = t.id;
  return { rows: batch, json, last };
}

/** Where a first import reads the old table in its physical order (readTransactionPages). */
export interface PhysicalStart {
  /** The table's pages when the import started: every row version older than `xmin` is in one of them. */
  pages: number;
  /** The table's file then: a rewrite (VACUUM FULL, CLUSTER, TRUNCATE) moves every row. */
  filenode: string;
  /** The snapshot's xmin then: every transaction before it had ended. */
  xmin: string;
}

/**
 * How many rows the import will read (for the progress line's ETA), and when it started (the old
 * server's clock). `physical`: where the table can be read in its physical order (a plain table
 * on PostgreSQL 14 or later, which has TID range scans).
 */
export async function countSource(
  db: Db,
  table: string,
  since: string | undefined,
): Promise<{ users: number; transactions: number; startedAt: string; physical: PhysicalStart | undefined }> {
  const { rows } = await db.query<{ users: string; transactions: string; started_at: string; physical: boolean; pages: string; filenode: string; xmin: string }>(
    `SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS started_at, (SELECT count(*) FROM auth_user) AS users,
            (SELECT count(*) FROM ${quoteTable(table)}
              ${since ? 'WHERE created_at > $2::timestamptz OR updated_at > $2::timestamptz' : ''}) AS transactions,
            current_setting('server_version_num')::int >= 140000 AND c.relkind = 'r' AS physical,
            pg_relation_size(c.oid) / current_setting('block_size')::int AS pages, pg_relation_filenode(c.oid)::text AS filenode,
            (txid_snapshot_xmin(txid_current_snapshot()) % 4294967296)::text AS xmin
     FROM pg_class c WHERE c.oid = $1::regclass`,
    since ? [quoteTable(table), since] : [quoteTable(table)],
  );
  const r = rows[0]!;
  return {
    users: Number(r.users),
    transactions: Number(r.transactions),
    startedAt: r.started_at,
    physical: r.physical ? { pages: Number(r.pages), filenode: r.filenode, xmin: r.xmin } : undefined,
  };
}

/** A row's place in its table, (page, item); items count from 1, so (page, 0) is before the page's first. */
export type Tid = readonly [page: number, item: number];
const tidText = ([page, item]: Tid) => `(${page},${item})`;

/**
 * A first import's batch in the table's physical order: up to `limit` rows after `after`, before
 * page `beforePage`, of the row versions written before the import started (`start.xmin`). Those
 * never move while the table is not rewritten, so each is read exactly once, and a batch touches
 * only its own pages (in id order, a 5,000-row batch touches a third of a million-row table's).
 * The versions written since are read afterwards by id (changedTransactionIds). `last`: where the
 * next batch starts when this one was cut at `limit`.
 */
export async function readTransactionPages(
  db: Db,
  table: string,
  after: Tid,
  beforePage: number,
  limit: number,
  start: PhysicalStart,
): Promise<{ rows: Array<DjangoTransaction & { tid: string }>; json: string; last: Tid | undefined }> {
  const { rows } = await db.query<{ batch: string | null; filenode: string }>(
    `SELECT pg_relation_filenode($4::regclass)::text AS filenode, (SELECT json_agg(x)::text FROM (
       SELECT ctid::text AS tid, ${COLUMNS}
       FROM ${quoteTable(table)}
       WHERE ctid > $1::tid AND ctid < $2::tid AND age(xmin) > age($5::text::xid)
       ORDER BY ctid LIMIT $3) x) AS batch`,
    [tidText(after), tidText([beforePage, 0]), limit, quoteTable(table), start.xmin],
  );
  if (rows[0]!.filenode !== start.filenode) {
    throw new Error(`the old table ${table} was rewritten during the import (VACUUM FULL, CLUSTER or TRUNCATE)`);
  }
  const json = rows[0]!.batch ?? '[]';
  const batch = JSON.parse(json) as Array<DjangoTransaction & { tid: string }>;
  let last: Tid | undefined;
  for (const t of batch) {
    const [page, item] = t.tid.slice(1, -1).split(',').map(Number) as [number, number];
    if (!last || page > last[0] || (page === last[0] && item > last[1])) last = [page, item];
  }
  return { rows: batch, json, last: batch.length === limit ? last : undefined };
}

/**
 * The ids of the rows whose version was written since the first import started (`start.xmin`):
 * those its physical read left out. One statement, so one snapshot: a row cannot move out of
 * it mid-scan. Undefined when there are more than `max`.
 */
export async function changedTransactionIds(db: Db, table: string, start: PhysicalStart, max: number): Promise<string[] | undefined> {
  const { rows } = await db.query<{ ids: string[] }>(
    `SELECT coalesce(array_agg(id::text), '{}') AS ids FROM (
       SELECT id FROM ${quoteTable(table)} WHERE age(xmin) <= age($1::text::xid) LIMIT $2) x`,
    [start.xmin, max + 1],
  );
  const ids = rows[0]!.ids;
  return ids.length > max ? undefined : ids;
}

/** The rows of `ids` (those still there). */
export async function readTransactionsById(db: Db, table: string, ids: readonly string[]): Promise<{ rows: DjangoTransaction[]; json: string }> {
  const { rows } = await db.query<{ batch: string | null }>(
    `SELECT json_agg(x)::text AS batch FROM (SELECT ${COLUMNS} FROM ${quoteTable(table)} WHERE id = ANY($1::uuid[])) x`,
    [ids],
  );
  const json = rows[0]?.batch ?? '[]';
  return { rows: JSON.parse(json) as DjangoTransaction[], json };
}

const TYPES = new Set(['income', 'expense']);
const PAYMENT_MODES = new Set(['cash', 'bank', 'card', 'upi', 'cheque', 'other']);
/** numeric(14,2) as the API takes it: up to 12 integer digits, at most 2 decimals. */
const AMOUNT = /^\d{1,12}(\.\d{1,2})?$/;
const POSITIVE = /[1-9]/;
/** Django's PBKDF2PasswordHasher output, or an unusable password ("!" + random: no login). */
const SUPPORTED_HASH = /^(pbkdf2_sha256\$[1-9]\d{0,9}\$[^$]+\$[A-Za-z0-9+/]+={0,2}|!.*)$/s;

/** Why a transaction cannot be imported, or undefined when it can (its user is checked on write). */
export function transactionProblem(t: DjangoTransaction): string | undefined {
  if (!TYPES.has(t.type)) return `unknown type ${JSON.stringify(t.type)}`;
  if (!PAYMENT_MODES.has(t.payment_mode)) return `unknown payment_mode ${JSON.stringify(t.payment_mode)}`;
  const amount = t.amount.replace(/^(\d+\.\d*?)0+$/, '$1').replace(/\.$/, '');
  if (t.amount.startsWith('-') || !POSITIVE.test(t.amount)) return `amount ${t.amount} is not positive`;
  if (!AMOUNT.test(amount)) return `amount ${t.amount} has more than 2 decimals or 12 digits`;
  if ([...t.category].length > 100) return 'category longer than 100 characters';
  if ([...t.description].length > 1000) return 'description longer than 1000 characters';
  return undefined;
}

/**
 * Why a user cannot be imported: their password format, or a username that NFKC makes longer
 * than users.username's 150 characters (auth_user constrains the rest).
 */
export function userProblem(u: DjangoUser): string | undefined {
  if ([...normalizeUsername(u.username)].length > 150) return 'username longer than 150 characters once normalised (NFKC)';
  if (SUPPORTED_HASH.test(u.password)) return undefined;
  // The algorithm's name only: a hash is a secret and never printed.
  const algorithm = /^[a-z0-9_]{1,30}\$/.test(u.password) ? u.password.slice(0, u.password.indexOf('$')) : 'unrecognised';
  return `unsupported password hash format (${algorithm})`;
}
