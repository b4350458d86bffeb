import { moveUserIdsPastImported, normalisedDuplicates, upsertUsers, userClashes, type Clash } from '../../lib/auth/import.js';
import type { DatabaseConfig } from '../../lib/config.js';
import { withConnection, withTransaction, type Db } from '../../lib/db.js';
import {
  changedTransactionIds,
  countSource,
  FIRST_UUID,
  readTransactionPages,
  readTransactions,
  readTransactionsById,
  quoteTable as quote,
  readUsers,
  transactionProblem,
  userProblem,
  type DjangoTransaction,
  type PhysicalStart,
  type Rejected,
  type Tid,
} from './django-rows.js';
import {
  deleteTransactions,
  finishFirstImport,
  insertTransactions,
  missingUsers,
  startFirstImport,
  targetIdsInRange,
  upsertTransactions,
} from './django-write.js';
import { Progress } from './progress.js';

// `npm run import-django`: copies the old backend's database into this one, batch by batch.
// Each batch is read with one short connection to the old database, then written with one
// short transaction here; at most one connection to each database is open at any time, and none
// between batches (the old server may be the same 2-connection one, still serving). Connects
// retry as the app's do (lib/db.ts), for up to CONNECT_BUDGET_MS per batch. The exception is a
// first import (no transaction here yet): its transactions are written in one transaction on one
// connection held to the end (django-write.ts, startFirstImport), so that the indexes and totals
// can be built once after the load and a failure leaves nothing behind.

export interface ImportOptions {
  source: DatabaseConfig;
  target: DatabaseConfig;
  transactionsTable: string;
  currency: string;
  /** Only transactions created or updated after this instant (users are always compared in full). */
  since?: string;
  /** Import the valid rows of a batch that has invalid ones (otherwise that batch is not written). */
  skipInvalid: boolean;
  /** Delete transactions here whose id the old database no longer has (the cutover delta). */
  deleteMissing: boolean;
  batchSize: number;
  progress?: NodeJS.WriteStream;
}

export interface TableCounts {
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  invalid: number;
  /** Valid rows not written because their batch had an invalid row. */
  held: number;
  /** Users that clash with this database, and the transactions left out with them. */
  clashed: number;
}

export interface ImportSummary {
  users: TableCounts;
  transactions: TableCounts & { deleted: number };
  rejected: Rejected[];
  /**
   * Old users who are not who this database holds under their id or name (someone registered
   * here meanwhile): left out with their transactions, never written over the account here.
   */
  clashes: Clash[];
  seconds: number;
  /** The old server's clock when this run started reading: the next delta's --since (minus a margin). */
  startedAt: string;
}

export const CONNECT_BUDGET_MS = 60_000;
const SWEEP_BATCH = 50_000;

const counts = (): TableCounts => ({ read: 0, inserted: 0, updated: 0, unchanged: 0, invalid: 0, held: 0, clashed: 0 });

export async function importDjango(opts: ImportOptions): Promise<ImportSummary> {
  const started = performance.now();
  const conn = (db: DatabaseConfig) => ({ db, deadline: Date.now() + CONNECT_BUDGET_MS });
  const rejected: Rejected[] = [];
  const total = await withConnection((db) => countSource(db, opts.transactionsTable, opts.since), conn(opts.source));
  const progress = new Progress(opts.progress, total.users + total.transactions);

  const users = counts();
  const clashes: Clash[] = [];
  // Kept for the whole run (a handful of ids): their transactions must not land in the account
  // that holds their id here, nor be deleted from it by --delete-missing.
  const clashed = new Set<string>();
  for (let after = 0; ; ) {
    const batch = await withConnection((db) => readUsers(db, after, opts.batchSize), conn(opts.source));
    if (batch.length === 0) break;
    after = batch.at(-1)!.id;
    users.read += batch.length;
    const bad = new Map<number, string>();
    for (const u of batch) {
      const problem = userProblem(u);
      if (problem) bad.set(u.id, problem);
    }
    // Two names of one batch that normalise to one; across batches, the first one written here
    // makes the later one a clash with this database.
    const duplicates = normalisedDuplicates(batch);
    const fresh = batch.filter((_, n) => !duplicates.has(n));
    const found = await withTransaction(async (db) => {
      const here = await userClashes(db, fresh);
      const left = fresh.filter((_, n) => !here.has(n));
      const good = left.filter((u) => !bad.has(u.id));
      if (good.length < left.length && !opts.skipInvalid) {
        users.held += good.length;
        return here;
      }
      const written = await upsertUsers(db, good, opts.currency);
      users.inserted += written.inserted;
      users.updated += written.updated;
      users.unchanged += good.length - written.inserted - written.updated;
      return here;
    }, conn(opts.target));
    for (const clash of [...duplicates.values(), ...found.values()]) {
      clashes.push(clash);
      clashed.add(String(clash.id));
      // Reported as a clash only, not also as invalid.
      bad.delete(clash.id!);
    }
    users.clashed += duplicates.size + found.size;
    for (const [id, reason] of bad) rejected.push({ table: 'auth_user', id: String(id), reason });
    users.invalid += bad.size;
    progress.advance(batch.length);
  }
  await withConnection(moveUserIdsPastImported, conn(opts.target));

  const transactions = { ...counts(), deleted: 0 };
  const copy = <C>(read: Read<C>, from: C, write: Write, store: Store) =>
    copyTransactions(opts, clashed, transactions, rejected, progress, read, from, write, store);
  const byId: Read<string> = async (after) => {
    const batch = await withConnection((db) => readTransactions(db, opts.transactionsTable, after, opts.batchSize, opts.since), conn(opts.source));
    return { ...batch, next: batch.rows.length < opts.batchSize ? undefined : batch.last };
  };
  const first = await withTransaction(async (db) => {
    const restore = await startFirstImport(db);
    if (!restore) return false;
    const write: Write = (fn) => fn(db);
    const insert: Store = async (db, json) => ({ inserted: await insertTransactions(db, json), updated: 0 });
    const physical = opts.since ? undefined : total.physical;
    if (!physical) await copy(byId, FIRST_UUID, write, insert);
    else {
      await copy(inPages(opts, conn, physical, total.transactions), [0, 0] as Tid, write, insert);
      // The rows written in the old database meanwhile, which the pages' read left out.
      const ids = await withConnection((db) => changedTransactionIds(db, opts.transactionsTable, physical, MAX_CHANGED), conn(opts.source));
      // Written as the pages' rows are (legacy), over the row the pages gave if they gave it.
      const again: Store = (db, json) => upsertTransactions(db, json, true);
      if (ids) await copy(idsFrom(opts, conn, ids), 0, write, again);
      else await copy(byId, FIRST_UUID, write, again);
    }
    await finishFirstImport(db, restore);
    return true;
  }, conn(opts.target));
  if (!first) await copy(byId, FIRST_UUID, (fn) => withTransaction(fn, conn(opts.target)), upsertTransactions);

  if (opts.deleteMissing) transactions.deleted = await sweepDeleted(opts, conn, [...clashed]);
  // Fresh statistics for what was just written: until autovacuum gets to them, a list over a
  // book that grew by a million rows is planned from stale estimates (seconds, not milliseconds).
  // After a first import a VACUUM too: its rows are in the old table's physical order, not in id
  // order, and the deltas' --delete-missing sweep reads this table's ids range by range, by
  // index-only scans once the visibility map is set (31.7 s without, for 1,000,000 rows).
  if (users.inserted + users.updated + transactions.inserted + transactions.updated + transactions.deleted > 0) {
    const analyze = first ? 'VACUUM (ANALYZE)' : 'ANALYZE';
    await withConnection((db) => db.query(`${analyze} transactions, book_totals, books, users`), conn(opts.target));
  }
  progress.done();
  return { users, transactions, rejected, clashes, seconds: (performance.now() - started) / 1000, startedAt: total.startedAt };
}

type Connect = (db: DatabaseConfig) => { db: DatabaseConfig; deadline: number };
type Write = (fn: (db: Db) => Promise<void>) => Promise<void>;
type Store = (db: Db, json: string) => Promise<{ inserted: number; updated: number }>;
/** Reads the batch at `cursor` (one short connection) and names the next one; undefined: this was the last. */
type Read<C> = (cursor: C) => Promise<{ rows: DjangoTransaction[]; json: string; next: C | undefined }>;

/**
 * Past this many rows written in the old database during a first import's read of its pages, the
 * import reads the whole table again by id instead of holding their ids (~80 bytes each).
 */
const MAX_CHANGED = 200_000;

/** A first import's read of the old table in its physical order (readTransactionPages), a range of pages at a time. */
function inPages(opts: ImportOptions, conn: Connect, start: PhysicalStart, rows: number): Read<Tid> {
  // Pages a batch spans: as many as hold batchSize rows on average. A denser range is cut at
  // batchSize rows and goes on after the last one read.
  const span = Math.max(1, Math.ceil((opts.batchSize * start.pages) / Math.max(rows, 1)));
  return async (after) => {
    const end = Math.min(start.pages, after[0] + span);
    const batch = await withConnection((db) => readTransactionPages(db, opts.transactionsTable, after, end, opts.batchSize, start), conn(opts.source));
    return { ...batch, next: batch.last ?? (end < start.pages ? ([end, 0] as Tid) : undefined) };
  };
}

/** The rows of `ids`, batchSize at a time; the cursor is an index into `ids`. */
function idsFrom(opts: ImportOptions, conn: Connect, ids: readonly string[]): Read<number> {
  return async (at) => {
    const slice = ids.slice(at, at + opts.batchSize);
    const batch = slice.length ? await withConnection((db) => readTransactionsById(db, opts.transactionsTable, slice), conn(opts.source)) : { rows: [], json: '[]' };
    return { ...batch, next: at + opts.batchSize < ids.length ? at + opts.batchSize : undefined };
  };
}

/**
 * The transactions, batch by batch from `read`: each batch is checked, then written by `store`
 * through `write` (its own short transaction, or a first import's one transaction).
 */
async function copyTransactions<C>(
  opts: ImportOptions,
  clashed: ReadonlySet<string>,
  transactions: TableCounts,
  rejected: Rejected[],
  progress: Progress,
  read: Read<C>,
  from: C,
  write: Write,
  store: Store,
): Promise<void> {
  // The next batch is read from the old database while this one is written here: still one
  // connection to each, and the two servers work at the same time.
  for (let next: ReturnType<Read<C>> | undefined = read(from); next; ) {
    const { rows: batch, json, next: after }: Awaited<ReturnType<Read<C>>> = await next;
    next = after === undefined ? undefined : read(after);
    // A failed write must not leave the read-ahead's rejection unhandled.
    next?.catch(() => undefined);
    // An empty batch: a range of pages with no row of the import's, or nothing (left) to read.
    if (batch.length === 0) continue;
    transactions.read += batch.length;
    const bad = new Map<string, string>();
    const theirs = batch.filter((t) => !clashed.has(t.user_id));
    transactions.clashed += batch.length - theirs.length;
    for (const t of theirs) {
      const problem = transactionProblem(t);
      if (problem) bad.set(t.id, problem);
    }
    await write(async (db) => {
      const missing = await missingUsers(db, theirs.filter((t) => !bad.has(t.id)).map((t) => t.user_id));
      for (const t of theirs) if (missing.has(t.user_id) && !bad.has(t.id)) bad.set(t.id, `user ${t.user_id} is missing`);
      const good: DjangoTransaction[] = theirs.filter((t) => !bad.has(t.id));
      if (bad.size > 0 && !opts.skipInvalid) {
        transactions.held += good.length;
        return;
      }
      if (good.length === 0) return;
      const written = await store(db, good.length === batch.length ? json : JSON.stringify(good));
      transactions.inserted += written.inserted;
      transactions.updated += written.updated;
      transactions.unchanged += good.length - written.inserted - written.updated;
    });
    for (const [id, reason] of bad) rejected.push({ table: 'transactions', id, reason });
    transactions.invalid += bad.size;
    progress.advance(batch.length);
  }
}

/**
 * Deletions in the old database since the last run: its ids are read in ranges (ids only), and
 * this database's ids in the same range that it lacks are deleted — except those of the account
 * here that holds a clashing user's id (`keep`): they were never the old database's.
 */
async function sweepDeleted(
  opts: ImportOptions,
  conn: Connect,
  keep: readonly string[],
): Promise<number> {
  let deleted = 0;
  for (let after = FIRST_UUID; ; ) {
    const ids = await withConnection(async (db) => {
      const { rows } = await db.query<{ id: string }>(
        `SELECT id::text AS id FROM ${quote(opts.transactionsTable)} WHERE id > $1::uuid ORDER BY id LIMIT $2`,
        [after, SWEEP_BATCH],
      );
      return rows.map((r) => r.id);
    }, conn(opts.source));
    const last = ids.length < SWEEP_BATCH ? undefined : ids.at(-1);
    const present = new Set(ids);
    deleted += await withTransaction(async (db) => {
      const gone = (await targetIdsInRange(db, after, last)).filter((id) => !present.has(id));
      return deleteTransactions(db, gone, keep);
    }, conn(opts.target));
    if (last === undefined) return deleted;
    after = last;
  }
}
