// `npx tsx scripts/bench/import-django.ts`: times the cutover steps of docs/migrating-from-django.md
// on this machine — a full import of BENCH_TRANSACTIONS (default 1,000,000) transactions of
// BENCH_USERS users, a no-op re-run, a delta of BENCH_DELTA changed rows (half updated, half new)
// with --since, and --verify — each as the operator runs it (`scripts/import-django.ts` in a
// child process, with the same Node flags as `npm run import-django`, its peak memory from
// /usr/bin/time). A benchmark, not a test.
//
// The old database is made by Django 3.2's own `migrate` (tests/support/django) and filled by SQL;
// both databases are uniquely named ones on BENCH_SERVER (a superuser URL, default the local
// PostgreSQL) and are dropped at the end.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { createDatabase, migrate } from '../lib/database-setup.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const server = process.env.BENCH_SERVER ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const users = Number(process.env.BENCH_USERS ?? 10_000);
const transactions = Number(process.env.BENCH_TRANSACTIONS ?? 1_000_000);
const delta = Number(process.env.BENCH_DELTA ?? 10_000);
const log = (line: string) => console.log(`[bench-import] ${line}`);

const suffix = randomBytes(4).toString('hex');
const urlOf = (database: string) => Object.assign(new URL(server), { pathname: `/${database}` }).toString();
const oldDb = `bench_django_old_${suffix}`;
const newDb = `bench_cashbook_new_${suffix}`;

async function sql(url: string, text: string, values: unknown[] = []) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, values)).rows;
  } finally {
    await client.end();
  }
}

async function timed(args: string[]): Promise<{ seconds: number; maxRssMb: number; stdout: string; code: number }> {
  const started = performance.now();
  const run = promisify(execFile)(
    '/usr/bin/time',
    ['-f', 'maxrss_kb=%M', 'node', '--max-old-space-size=128', '--import', 'tsx', 'scripts/import-django.ts', '--from', urlOf(oldDb), ...args],
    { cwd: root, env: { ...process.env, DATABASE_URL: urlOf(newDb) }, maxBuffer: 64 * 1024 * 1024 },
  );
  const result = await run.then(
    (r) => ({ ...r, code: 0 }),
    (e: { stdout: string; stderr: string; code: number }) => e,
  );
  const seconds = (performance.now() - started) / 1000;
  const rss = Number(/maxrss_kb=(\d+)/.exec(result.stderr)?.[1] ?? 0);
  return { seconds, maxRssMb: Math.round(rss / 1024), stdout: result.stdout, code: result.code };
}

try {
  await createDatabase(server, oldDb);
  await createDatabase(server, newDb);
  const admin = new URL(server);
  await promisify(execFile)('/usr/bin/python3', [`${root}tests/support/django/cli.py`, 'migrate'], {
    env: {
      PATH: process.env.PATH,
      PYTHONDONTWRITEBYTECODE: '1',
      DJANGO_DB_HOST: admin.hostname,
      DJANGO_DB_PORT: admin.port,
      DJANGO_DB_NAME: oldDb,
      DJANGO_DB_USER: decodeURIComponent(admin.username),
      DJANGO_DB_PASSWORD: decodeURIComponent(admin.password),
    },
  });
  await migrate(urlOf(newDb));
  log(`seeding ${users} users and ${transactions} transactions into ${oldDb} (Django 3.2 schema)`);
  const hash = 'pbkdf2_sha256$260000$Xb3lDJQHc6mR$Fdy6rYHb/oiqnU6bzF88UZ1gKQsuJhd5AnQKBuQZVtg=';
  await sql(
    urlOf(oldDb),
    `INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
     SELECT i, $1, false, 'user' || i, '', '', 'user' || i || '@example.com', false, true, now() - interval '1 year'
     FROM generate_series(1, $2) i`,
    [hash, users],
  );
  await sql(
    urlOf(oldDb),
    `INSERT INTO transactions_transaction (id, user_id, type, amount, category, description, date, payment_mode, created_at, updated_at)
     SELECT gen_random_uuid(), 1 + i % $2, CASE WHEN i % 4 = 0 THEN 'income' ELSE 'expense' END, (1 + i % 100000) / 100.0,
            (ARRAY['food', 'rent', 'travel', 'salary', 'shopping'])[1 + i % 5], 'purchase number ' || i || ' at the corner shop',
            DATE '2024-01-01' + i % 700, (ARRAY['cash', 'bank', 'card', 'upi', 'cheque', 'other'])[1 + i % 6],
            now() - interval '1 day' + i * interval '1 microsecond', now() - interval '1 day' + i * interval '1 microsecond'
     FROM generate_series(1, $1) i`,
    [transactions, users],
  );
  // As autovacuum leaves a table that has lived in production: hint bits set, visibility map
  // built. Without it the import's first read of each page writes it (hint bits), which a live
  // old database does not pay: 115–130 ms a batch instead of 50–80 here.
  await sql(urlOf(oldDb), 'VACUUM ANALYZE');
  await sql(urlOf(oldDb), 'CHECKPOINT');

  const full = await timed([]);
  log(`full import: ${full.seconds.toFixed(1)} s, ${Math.round((users + transactions) / full.seconds)} rows/s, max RSS ${full.maxRssMb} MB, exit ${full.code}`);
  log(full.stdout.trim().split('\n').slice(-3).join(' | '));

  const again = await timed([]);
  log(`second run (no changes): ${again.seconds.toFixed(1)} s, max RSS ${again.maxRssMb} MB`);

  const since = (await sql(urlOf(oldDb), 'SELECT now()::text AS now'))[0]!.now as string;
  await new Promise((r) => setTimeout(r, 50));
  await sql(
    urlOf(oldDb),
    `UPDATE transactions_transaction SET amount = amount + 1, updated_at = now()
     WHERE id IN (SELECT id FROM transactions_transaction ORDER BY random() LIMIT $1)`,
    [Math.floor(delta / 2)],
  );
  await sql(
    urlOf(oldDb),
    `INSERT INTO transactions_transaction (id, user_id, type, amount, category, description, date, payment_mode, created_at, updated_at)
     SELECT gen_random_uuid(), 1 + i % $2, 'expense', 9.99, 'delta', 'made during the import', DATE '2025-01-01', 'cash', now(), now()
     FROM generate_series(1, $1) i`,
    [delta - Math.floor(delta / 2), users],
  );
  const deltaRun = await timed(['--since', since]);
  log(`delta of ${delta} changed rows (--since): ${deltaRun.seconds.toFixed(1)} s, max RSS ${deltaRun.maxRssMb} MB`);
  log(deltaRun.stdout.trim().split('\n').slice(-2).join(' | '));
  const sweep = await timed(['--since', since, '--delete-missing']);
  log(`same delta again with --delete-missing (no changes left; the id sweep): ${sweep.seconds.toFixed(1)} s`);

  const verify = await timed(['--verify']);
  log(`--verify: ${verify.seconds.toFixed(1)} s, max RSS ${verify.maxRssMb} MB, exit ${verify.code}: ${verify.stdout.trim().split('\n').at(-1)}`);
} finally {
  for (const db of [oldDb, newDb]) await sql(server, `DROP DATABASE IF EXISTS ${db} WITH (FORCE)`).catch(() => undefined);
}
