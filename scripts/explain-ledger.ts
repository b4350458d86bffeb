import pg from 'pg';
import { listBooks } from '../lib/books/queries.js';
import type { Db } from '../lib/db.js';
import { listLedger } from '../lib/transactions/list.js';
import { deleteTransaction, insertTransaction, updateTransaction } from '../lib/transactions/queries.js';
import { createTransactionBody, listTransactionsQuery, patchTransactionBody } from '../lib/transactions/schema.js';
import { insertTransfer, listTransfers, updateTransfer } from '../lib/transfers/queries.js';
import { createTransferBody, listTransfersQuery, patchTransferBody } from '../lib/transfers/schema.js';
import { summarize } from '../lib/transactions/summary.js';
import { EXPORT_MAX_ROWS } from '../lib/transactions/export.js';
import { withScratchDatabase } from './lib/local-database.js';

// What the ledger's statements cost on a small and on a large book, as PostgreSQL sees it:
//   npx tsx scripts/explain-ledger.ts [rows of the large book, default 1000000] [--plans]
// Starts a scratch embedded PostgreSQL (deleted afterwards), seeds one user with a 1,000-row
// book and one with a large book (300 days, 10 categories on every day), each with a second book
// and one transfer to it per 100 rows (issue 20), then runs
// each scenario's statement — built by the app's own data-access functions — under
// EXPLAIN (ANALYZE, BUFFERS), each time on a FRESH connection of the application role (SCRAM),
// as every Lambda invocation does: planning time then includes the catalog loading a fresh
// backend pays. Prints the median of a few runs. Not a test (it takes a minute or more).

/** As an access token presents the user to the statements (its iat: now). */
type UserId = Parameters<typeof listLedger>[1];
const RUNS = 5;

const showPlans = process.argv.includes('--plans');

interface Measure {
  planning: number;
  execution: number;
  triggers: number;
  /** of which transfer_totals' triggers (migration 1764000070000) */
  transferTriggers: number;
  hit: number;
  read: number;
  /** connect + statement + close, as the client sees it */
  wall: number;
}

/** A Db that runs each statement under EXPLAIN first (in a rolled-back transaction), then for real. */
function explaining(client: pg.Client, measures: Measure[], printPlan: boolean): Db {
  return {
    async query<R extends object>(text: string, values?: readonly unknown[]) {
      await client.query('BEGIN');
      if (printPlan && !measures.length) {
        const plan = await client.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values as unknown[]);
        process.stderr.write(`${plan.rows.map((r) => r['QUERY PLAN']).join('\n')}\n\n`);
        await client.query('ROLLBACK');
        await client.query('BEGIN');
      }
      const { rows } = await client.query<{ 'QUERY PLAN': Array<Record<string, any>> }>(
        `EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`,
        values as unknown[],
      );
      await client.query('ROLLBACK');
      const plan = rows[0]!['QUERY PLAN'][0]!;
      measures.push({
        planning: plan['Planning Time'],
        execution: plan['Execution Time'],
        triggers: (plan.Triggers ?? []).reduce((s: number, t: { Time: number }) => s + t.Time, 0),
        transferTriggers: (plan.Triggers ?? [])
          .filter((t: { 'Trigger Name': string }) => t['Trigger Name'].includes('transfer_totals'))
          .reduce((s: number, t: { Time: number }) => s + t.Time, 0),
        hit: plan.Plan['Shared Hit Blocks'] + (plan.Planning?.['Shared Hit Blocks'] ?? 0),
        read: plan.Plan['Shared Read Blocks'] + (plan.Planning?.['Shared Read Blocks'] ?? 0),
        wall: 0,
      });
      return { rows: [] as R[], rowCount: 0 };
    },
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function measure(appUrl: string, run: (db: Db) => Promise<unknown>): Promise<Measure> {
  const all: Measure[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const client = new pg.Client({ connectionString: appUrl });
    await client.connect();
    const measures: Measure[] = [];
    try {
      // The plan is printed from the last run, so the measured runs before it stay cold.
      await run(explaining(client, measures, showPlans && i === RUNS - 1)).catch((err: unknown) => {
        // An empty result makes the data functions throw (e.g. 404); the EXPLAIN already ran.
        if (!measures.length) throw err;
      });
    } finally {
      await client.end();
    }
    all.push({ ...measures[0]!, wall: performance.now() - started });
  }
  const pick = (k: keyof Measure) => median(all.map((m) => m[k]));
  return {
    planning: pick('planning'), execution: pick('execution'), triggers: pick('triggers'), transferTriggers: pick('transferTriggers'),
    hit: pick('hit'), read: pick('read'), wall: pick('wall'),
  };
}

interface Seeded {
  id: UserId;
  book: string;
  bank: string;
  /** An ordinary entry and a transfer, for the edit scenarios. */
  entry: string;
  transfer: string;
  /** A viewer of both books (shared books, issue 18), with no book of their own. */
  member: UserId;
}

async function seed(admin: pg.Client, username: string, rows: number): Promise<Seeded> {
  const { rows: [user] } = await admin.query<{ id: string }>(
    `INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id`,
    [username],
  );
  const { rows: [book] } = await admin.query<{ id: string }>(
    `INSERT INTO books (user_id, name, currency, is_default) VALUES ($1, 'Cashbook', 'INR', true) RETURNING id`,
    [user!.id],
  );
  const { rows: [bank] } = await admin.query<{ id: string }>(
    `INSERT INTO books (user_id, name, currency) VALUES ($1, 'Bank', 'INR') RETURNING id`,
    [user!.id],
  );
  await admin.query(
    `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date)
     SELECT $1, $2, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'cat' || (i / 300 % 10), 'seed ' || i,
            DATE '2026-01-01' + (i % 300)
     FROM generate_series(1, $3::int) AS i`,
    [user!.id, book!.id, rows],
  );
  // One transfer per 100 rows, from the large book to the bank (both sides in one statement).
  await admin.query(
    `INSERT INTO transactions (user_id, book_id, type, amount, category, date, transfer_id)
     SELECT $1, CASE s.side WHEN 0 THEN $2::uuid ELSE $3::uuid END, CASE s.side WHEN 0 THEN 'expense' ELSE 'income' END,
            (i % 300) + 1, 'transfer', DATE '2026-01-01' + (i % 300), md5($1::bigint::text || '-' || i)::uuid
     FROM generate_series(1, $4::int) AS i CROSS JOIN (VALUES (0), (1)) AS s (side)`,
    [user!.id, book!.id, bank!.id, Math.max(1, Math.floor(rows / 100))],
  );
  const { rows: [picked] } = await admin.query<{ entry: string; transfer: string }>(
    `SELECT (SELECT id FROM transactions WHERE book_id = $1 AND transfer_id IS NULL ORDER BY date DESC LIMIT 1) AS entry,
            (SELECT transfer_id FROM transactions WHERE book_id = $1 AND transfer_id IS NOT NULL ORDER BY date DESC LIMIT 1) AS transfer`,
    [book!.id],
  );
  const { rows: [member] } = await admin.query<{ id: string }>(
    `INSERT INTO users (username, password_hash) VALUES ($1, 'x') RETURNING id`,
    [`${username}-viewer`],
  );
  await admin.query(
    `INSERT INTO book_members (book_id, user_id, role, status) SELECT b, $1, 'viewer', 'active' FROM unnest($2::uuid[]) AS b`,
    [member!.id, [book!.id, bank!.id]],
  );
  const issuedAt = Math.floor(Date.now() / 1000);
  return {
    id: { id: Number(user!.id), issuedAt },
    member: { id: Number(member!.id), issuedAt },
    book: book!.id,
    bank: bank!.id,
    ...picked!,
  };
}

async function main() {
  const large = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 1_000_000);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  await withScratchDatabase('explain', ['-c', 'shared_buffers=256MB'], async (local) => {
    const admin = new pg.Client({ connectionString: local.adminUrl });
    await admin.connect();
    let started = performance.now();
    const small = await seed(admin, 'small', 1_000);
    const big = await seed(admin, 'large', large);
    log(`seeded 1,000 + ${large.toLocaleString('en')} rows in ${((performance.now() - started) / 1000).toFixed(1)} s (triggers included)`);
    started = performance.now();
    await admin.query('VACUUM ANALYZE');
    log(`VACUUM ANALYZE ${((performance.now() - started) / 1000).toFixed(1)} s`);
    await admin.end();

    const pageSize = 50;
    const scenarios: Array<[string, (user: Seeded, rows: number) => (db: Db) => Promise<unknown>]> = [
      ['list page 1', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({}), { limit: pageSize, offset: 0 })],
      ['list middle page', (u, n) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({}), { limit: pageSize, offset: Math.floor(n / 2) })],
      ['list ?category= page 1', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ category: 'cat3' }), { limit: pageSize, offset: 0 })],
      ['list ?category= middle', (u, n) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ category: 'cat3' }), { limit: pageSize, offset: Math.floor(n / 20) })],
      ['list ?book=&ordering=date middle', (u, n) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ book: u.book, ordering: 'date' }), { limit: pageSize, offset: Math.floor(n / 2) })],
      ['summary', (u) => (db) => summarize(db, u.id, listTransactionsQuery.parse({}))],
      ['summary ?category=', (u) => (db) => summarize(db, u.id, listTransactionsQuery.parse({ category: 'cat3' }))],
      ['export (first 10,001 rows)', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({}), { limit: EXPORT_MAX_ROWS + 1, offset: 0, forExport: true })],
      ['books with balances', (u) => (db) => listBooks(db, u.id, { page: 1, page_size: 50 })],
      ['create (trigger)', (u) => (db) => insertTransaction(db, u.id, createTransactionBody.parse({ type: 'expense', amount: '12.34', date: '2026-03-01' }))],
      ['list ?exclude_transfers=true page 1', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ exclude_transfers: 'true' }), { limit: pageSize, offset: 0 })],
      ['list ?exclude_transfers=true middle', (u, n) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ exclude_transfers: 'true' }), { limit: pageSize, offset: Math.floor(n / 2) })],
      ['summary ?exclude_transfers=true', (u) => (db) => summarize(db, u.id, listTransactionsQuery.parse({ exclude_transfers: 'true' }))],
      ['update an entry (date, amount)', (u) => (db) => updateTransaction(db, u.id, u.entry, patchTransactionBody.parse({ date: '2026-02-02', amount: '1.23' }))],
      ['delete an entry', (u) => (db) => deleteTransaction(db, u.id, u.entry)],
      ['create transfer', (u) => (db) => insertTransfer(db, u.id, createTransferBody.parse({ from_book: u.book, to_book: u.bank, amount: '5.00', date: '2026-03-01' }))],
      ['patch transfer (date, amount)', (u) => (db) => updateTransfer(db, u.id, u.transfer, patchTransferBody.parse({ date: '2026-02-02', amount: '7.00' }))],
      ['list transfers page 1', (u) => (db) => listTransfers(db, u.id, listTransfersQuery.parse({}))],
      ['list transfers ?book= page 1', (u) => (db) => listTransfers(db, u.id, listTransfersQuery.parse({ book: u.bank }))],
      ['list ?search= page 1 (scans)', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ search: 'seed 12' }), { limit: pageSize, offset: 0 })],
      // A viewer the two books are shared with: their lists read the books of another account.
      ['shared: list page 1', (u) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({}), { limit: pageSize, offset: 0 })],
      ['shared: list middle page', (u, n) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({}), { limit: pageSize, offset: Math.floor(n / 2) })],
      ['shared: list ?book= page 1', (u) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({ book: u.book }), { limit: pageSize, offset: 0 })],
      ['shared: list ?book=&ordering=date middle', (u, n) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({ book: u.book, ordering: 'date' }), { limit: pageSize, offset: Math.floor(n / 2) })],
      ['shared: list ?ordering=-amount page 1', (u) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({ book: u.book, ordering: '-amount' }), { limit: pageSize, offset: 0 })],
      ['shared: summary', (u) => (db) => summarize(db, u.member, listTransactionsQuery.parse({}))],
      ['shared: export (first 10,001 rows)', (u) => (db) => listLedger(db, u.member, listTransactionsQuery.parse({}), { limit: EXPORT_MAX_ROWS + 1, offset: 0, forExport: true })],
      ['list ?ordering=-amount page 1', (u) => (db) => listLedger(db, u.id, listTransactionsQuery.parse({ book: u.book, ordering: '-amount' }), { limit: pageSize, offset: 0 })],
    ];
    const cols = ['scenario', 'rows', 'plan ms', 'exec ms', 'trigger ms', 'of which transfer_totals', 'buffers', 'wall ms (fresh conn)'];
    console.log(`| ${cols.join(' | ')} |`);
    console.log(`|${cols.map(() => '---').join('|')}|`);
    for (const [name, build] of scenarios) {
      for (const [user, rows] of [[small, 1_000], [big, large]] as const) {
        const m = await measure(local.appUrl, build(user, rows));
        const cells = [
          name, rows.toLocaleString('en'), m.planning.toFixed(2), m.execution.toFixed(2), m.triggers.toFixed(2), m.transferTriggers.toFixed(2),
          String(m.hit + m.read), m.wall.toFixed(1),
        ];
        console.log(`| ${cells.join(' | ')} |`);
      }
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
