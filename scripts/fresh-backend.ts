import { readFileSync } from 'node:fs';
import pg from 'pg';
import { listStatement } from '../lib/transactions/list.js';
import { createStatement } from '../lib/transactions/queries.js';
import { createTransactionBody, transactionFiltersQuery } from '../lib/transactions/schema.js';
import { withScratchDatabase } from './lib/local-database.js';

// What each statement costs a FRESH backend, as in direct mode (every request a new connection):
//   npx tsx scripts/fresh-backend.ts [connections per statement, default 31]
// Starts a scratch embedded PostgreSQL (deleted afterwards), seeds a user with 100 entries (the
// bench's users), then, round after round, opens one connection of the application role per
// statement, runs it once and reads the backend's CPU (/proc/<pid>/schedstat) and minor page
// faults (/proc/<pid>/stat) before and after it. Interleaved, so a machine that slows down
// during the run slows every statement alike. Prints medians. Linux only; not a test.
// The old backend's list statements are sent to this project's tables, for scale.

const ROUNDS = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 31);

interface Sample {
  cpuMs: number;
  faults: number;
}

function backendNow(pid: number): Sample {
  const cpuNs = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
  // Fields after the command's closing parenthesis: minflt is the 8th (man 5 proc: field 10).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return { cpuMs: cpuNs / 1e6, faults: Number(fields[7]) };
}

/** The tables the list reads, each with a condition its indexes answer ($1 the user, $2 a book). */
const LIST_TABLES: Array<[string, string]> = [
  ['users', 'id = $1'],
  ['transactions', 'user_id = $1'],
  ['book_members', 'user_id = $1'],
  ['books', 'user_id = $1'],
  ['book_totals', 'book_id = $2'],
  ['attachments', "transaction_id = '00000000-0000-4000-8000-000000000000'"],
];

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main() {
  await withScratchDatabase('fresh', [], async (local) => {
    const admin = new pg.Client({ connectionString: local.adminUrl });
    await admin.connect();
    const { rows: [user] } = await admin.query<{ id: string }>(`INSERT INTO users (username, password_hash) VALUES ('fresh', 'x') RETURNING id`);
    const { rows: [book] } = await admin.query<{ id: string }>(
      `INSERT INTO books (user_id, name, currency, is_default) VALUES ($1, 'Cashbook', 'INR', true) RETURNING id`,
      [user!.id],
    );
    await admin.query(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date)
       SELECT $1, $2, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'cat' || (i % 10), 'seed ' || i, DATE '2026-01-01' + i
       FROM generate_series(1, 100) AS i`,
      [user!.id, book!.id],
    );
    await admin.query('VACUUM ANALYZE');
    await admin.end();

    const caller = { id: Number(user!.id), issuedAt: Math.floor(Date.now() / 1000) };
    const list = listStatement(caller, transactionFiltersQuery.parse({}), { limit: 20, offset: 0 });
    const create = createStatement(caller, createTransactionBody.parse({ type: 'expense', amount: '12.34', date: '2026-03-01' }));
    const statements: Array<[string, Array<{ text: string; values?: unknown[] }>]> = [
      ['SELECT 1', [{ text: 'SELECT 1' }]],
      ['list, page 1 of 20', [list]],
      ['create', [create]],
      ['loading PL/pgSQL (an empty DO)', [{ text: 'DO $$ BEGIN END $$' }]],
      // The floor under any statement that reads what the list's features live in: each of its
      // tables read off an index, nothing else.
      ['the list\'s 6 tables, an indexed count of each', [{
        text: `SELECT ${LIST_TABLES.map(([table, condition]) => `(SELECT count(*) FROM ${table} x WHERE x.${condition})`).join(', ')}`,
        values: [user!.id, book!.id],
      }]],
      ['the old backend\'s list: user, count, page', [
        { text: 'SELECT * FROM users WHERE id = $1', values: [user!.id] },
        { text: 'SELECT count(*) FROM transactions WHERE user_id = $1', values: [user!.id] },
        { text: 'SELECT * FROM transactions WHERE user_id = $1 ORDER BY date DESC, created_at DESC LIMIT 20', values: [user!.id] },
      ]],
    ];
    const samples = new Map(statements.map(([name]) => [name, [] as Sample[]]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, queries] of statements) {
        const client = new pg.Client({ connectionString: local.appUrl });
        await client.connect();
        try {
          const pid = (client as unknown as { processID: number }).processID;
          const before = backendNow(pid);
          for (const { text, values } of queries) await client.query(text, values);
          const after = backendNow(pid);
          samples.get(name)!.push({ cpuMs: after.cpuMs - before.cpuMs, faults: after.faults - before.faults });
        } finally {
          await client.end();
        }
      }
    }
    console.log(`| on a fresh backend (median of ${ROUNDS}) | CPU ms | minor faults |`);
    console.log('|---|---|---|');
    for (const [name, taken] of samples) {
      console.log(`| ${name} | ${median(taken.map((s) => s.cpuMs)).toFixed(2)} | ${median(taken.map((s) => s.faults))} |`);
    }
  });
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
