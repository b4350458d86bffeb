import { normalizeUsername } from '../../lib/auth/import.js';
import type { DatabaseConfig } from '../../lib/config.js';
import { withConnection, type Db } from '../../lib/db.js';
import { quoteTable } from './django-rows.js';
import { CONNECT_BUDGET_MS } from './django-import.js';

// `--verify`: the old and the new database compared — user count, every user field by field,
// per-user transaction count and income/expense sums (exact decimals, summed by each server),
// and a random sample of transactions field by field. Read in keyset batches with one short
// connection at a time, like the import.

export interface VerifyOptions {
  source: DatabaseConfig;
  target: DatabaseConfig;
  transactionsTable: string;
  sampleSize: number;
  batchSize: number;
}

export interface VerifyReport {
  users: number;
  transactions: number;
  sampled: number;
  differences: string[];
}

const UTC = (col: string) => `to_char(${col} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US')`;

type Row = Record<string, string | boolean | null>;

/** Users in (after, upTo] on either side, keyed by id. */
async function usersInRange(db: Db, table: 'auth_user' | 'users', after: number, upTo: number | undefined): Promise<Map<string, Row>> {
  const password = table === 'auth_user' ? 'password' : 'password_hash';
  const { rows } = await db.query<Row & { id: string }>(
    `SELECT id::text AS id, username, email, ${password} AS password, is_active,
            ${UTC('date_joined')} AS date_joined, ${UTC('last_login')} AS last_login
     FROM ${table} WHERE id > $1 ${upTo === undefined ? '' : 'AND id <= $2'} ORDER BY id`,
    upTo === undefined ? [after] : [after, upTo],
  );
  // The import stores names NFKC-normalised, as registration and login use them.
  if (table === 'auth_user') for (const r of rows) r.username = normalizeUsername(String(r.username));
  return new Map(rows.map((r) => [r.id, r]));
}

/** Per-user count and sums for users in (after, upTo]. */
async function totalsInRange(db: Db, table: string, after: number, upTo: number | undefined): Promise<Map<string, Row>> {
  const { rows } = await db.query<Row & { user_id: string }>(
    `SELECT user_id::text AS user_id, count(*)::text AS count,
            COALESCE(sum(amount) FILTER (WHERE type = 'income'), 0)::numeric(20, 2)::text AS income,
            COALESCE(sum(amount) FILTER (WHERE type = 'expense'), 0)::numeric(20, 2)::text AS expense
     FROM ${table} WHERE user_id > $1 ${upTo === undefined ? '' : 'AND user_id <= $2'} GROUP BY user_id`,
    upTo === undefined ? [after] : [after, upTo],
  );
  return new Map(rows.map((r) => [r.user_id, r]));
}

const TX_COLUMNS = `id::text AS id, user_id::text AS user_id, type, amount::text AS amount, category, description,
  date::text AS date, payment_mode, ${UTC('created_at')} AS created_at, ${UTC('updated_at')} AS updated_at`;

function compare(what: string, old: Row | undefined, now: Row | undefined, out: string[], skip: (k: string) => boolean = () => false) {
  if (!old) return void out.push(`${what}: only in the new database`);
  if (!now) return void out.push(`${what}: missing from the new database`);
  for (const key of Object.keys(old)) {
    if (skip(key) || old[key] === now[key]) continue;
    // Values may hold user text: say which field differs, not what it holds (passwords never).
    out.push(`${what}: ${key} differs`);
  }
}

export async function verifyDjango(opts: VerifyOptions): Promise<VerifyReport> {
  const conn = (db: DatabaseConfig) => ({ db, deadline: Date.now() + CONNECT_BUDGET_MS });
  const table = quoteTable(opts.transactionsTable);
  const differences: string[] = [];
  const counts = async (db: Db, users: string, tx: string) =>
    (await db.query<{ users: string; transactions: string }>(
      `SELECT (SELECT count(*) FROM ${users}) AS users, (SELECT count(*) FROM ${tx}) AS transactions`,
    )).rows[0]!;
  const oldCounts = await withConnection((db) => counts(db, 'auth_user', table), conn(opts.source));
  const newCounts = await withConnection((db) => counts(db, 'users', 'transactions'), conn(opts.target));
  if (oldCounts.users !== newCounts.users) differences.push(`user count: old ${oldCounts.users}, new ${newCounts.users}`);
  if (oldCounts.transactions !== newCounts.transactions) {
    differences.push(`transaction count: old ${oldCounts.transactions}, new ${newCounts.transactions}`);
  }

  // Users and their totals, range by range of the old database's user ids.
  for (let after = 0; ; ) {
    const ids = await withConnection(async (db) => {
      const { rows } = await db.query<{ id: string }>('SELECT id FROM auth_user WHERE id > $1 ORDER BY id LIMIT $2', [
        after,
        opts.batchSize,
      ]);
      return rows.map((r) => Number(r.id));
    }, conn(opts.source));
    const upTo = ids.length < opts.batchSize ? undefined : ids.at(-1);
    const [oldUsers, oldTotals] = await withConnection(
      async (db) => [await usersInRange(db, 'auth_user', after, upTo), await totalsInRange(db, table, after, upTo)] as const,
      conn(opts.source),
    );
    const [newUsers, newTotals] = await withConnection(
      async (db) => [await usersInRange(db, 'users', after, upTo), await totalsInRange(db, 'transactions', after, upTo)] as const,
      conn(opts.target),
    );
    for (const id of new Set([...oldUsers.keys(), ...newUsers.keys()])) {
      // A password re-hashed to scrypt by a login here is a legitimate difference.
      const rehashed = String(newUsers.get(id)?.password ?? '').startsWith('scrypt$');
      compare(`user ${id}`, oldUsers.get(id), newUsers.get(id), differences, (k) => k === 'id' || (k === 'password' && rehashed));
    }
    for (const id of new Set([...oldTotals.keys(), ...newTotals.keys()])) {
      const [o, n] = [oldTotals.get(id), newTotals.get(id)];
      for (const key of ['count', 'income', 'expense'] as const) {
        if (o?.[key] !== n?.[key]) differences.push(`user ${id}: transaction ${key} old ${o?.[key] ?? 0}, new ${n?.[key] ?? 0}`);
      }
    }
    if (upTo === undefined) break;
    after = upTo;
  }

  // A random sample of transactions, field by field.
  const sample = await withConnection(async (db) => {
    const { rows } = await db.query<Row & { id: string }>(`SELECT ${TX_COLUMNS} FROM ${table} ORDER BY random() LIMIT $1`, [
      opts.sampleSize,
    ]);
    return rows;
  }, conn(opts.source));
  const copies = await withConnection(async (db) => {
    const { rows } = await db.query<Row & { id: string }>(`SELECT ${TX_COLUMNS} FROM transactions WHERE id = ANY($1::uuid[])`, [
      sample.map((r) => r.id),
    ]);
    return new Map(rows.map((r) => [r.id, r]));
  }, conn(opts.target));
  for (const row of sample) compare(`transaction ${row.id}`, row, copies.get(row.id), differences);

  return {
    users: Number(oldCounts.users),
    transactions: Number(oldCounts.transactions),
    sampled: sample.length,
    differences,
  };
}
