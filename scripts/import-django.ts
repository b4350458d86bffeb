// `npm run import-django -- --from postgres://old-db [options]`: copies the old Django backend's
// users (auth_user) and transactions into DATABASE_URL (or MIGRATE_DATABASE_URL), keeping every
// id; each user gets a default book (DEFAULT_CURRENCY) holding their transactions. Re-runnable:
// a second run changes nothing. See docs/migrating-from-django.md for the cutover runbook.
import { parseArgs } from 'node:util';
import { databaseFromUrl } from '../lib/config.js';
import { isCurrencyCode } from '../lib/currency.js';
import { importDjango } from './lib/django-import.js';
import { quoteTable } from './lib/django-rows.js';
import { verifyDjango } from './lib/django-verify.js';

const USAGE = `Usage: DATABASE_URL=postgres://owner@new/cashbook npm run import-django -- --from postgres://user@old/django [options]
  --transactions-table NAME  the old transactions table (default transactions_transaction)
  --since TIMESTAMP          only transactions created or updated after it (the cutover delta)
  --delete-missing           delete transactions the old database no longer has (the cutover delta)
  --skip-invalid             import the valid rows of batches that hold invalid ones
  --verify                   compare old and new instead of importing; exit 1 on any difference
  --sample N                 transactions compared field by field by --verify (default 1000)
  --batch N                  rows per batch (default 5000)`;

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

const { values } = (() => {
  try {
    return parseArgs({
      options: {
        from: { type: 'string' },
        'transactions-table': { type: 'string', default: 'transactions_transaction' },
        since: { type: 'string' },
        'delete-missing': { type: 'boolean', default: false },
        'skip-invalid': { type: 'boolean', default: false },
        verify: { type: 'boolean', default: false },
        sample: { type: 'string', default: '1000' },
        batch: { type: 'string', default: '5000' },
      },
      strict: true,
    });
  } catch (err) {
    return fail((err as Error).message);
  }
})();

const targetUrl = process.env.MIGRATE_DATABASE_URL ?? process.env.DATABASE_URL;
if (!values.from) fail('--from is required');
if (!targetUrl) fail('Set DATABASE_URL (or MIGRATE_DATABASE_URL) to the new database');
const currency = (process.env.DEFAULT_CURRENCY || 'INR').toUpperCase();
if (!isCurrencyCode(currency)) fail('DEFAULT_CURRENCY must be an ISO 4217 currency code');
const batchSize = Number(values.batch);
const sampleSize = Number(values.sample);
if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) fail('--batch must be an integer from 1 to 50000');
if (!Number.isInteger(sampleSize) || sampleSize < 0) fail('--sample must be a non-negative integer');
if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) fail('--since must be a timestamp (ISO 8601)');

let source, target;
try {
  source = databaseFromUrl(values.from, 'cashbook-import-django');
  target = databaseFromUrl(targetUrl, 'cashbook-import-django');
} catch {
  fail('--from and DATABASE_URL must be postgres:// URLs');
}
const transactionsTable = values['transactions-table'];
try {
  quoteTable(transactionsTable);
} catch {
  fail('--transactions-table must be a table name, optionally schema-qualified (schema.table)');
}

/** A database that stays unreachable past the connect budget, or a failed statement: a clean line, not a stack. */
function failed(err: unknown): never {
  const cause = (err as { cause?: unknown }).cause;
  const message = [err, cause].filter((e): e is Error => e instanceof Error).map((e) => e.message).join(': ');
  console.error(`[import-django] failed: ${message}. Nothing of the failed batch was written (of a first import's transactions, none); run again to resume.`);
  process.exit(1);
}

if (values.verify) {
  const report = await verifyDjango({ source, target, transactionsTable, sampleSize, batchSize }).catch(failed);
  for (const line of report.differences) console.log(`[verify] ${line}`);
  console.log(
    `[verify] ${report.users} users, ${report.transactions} transactions, ${report.sampled} sampled: ` +
      (report.differences.length ? `${report.differences.length} differences` : 'no differences'),
  );
  process.exit(report.differences.length ? 1 : 0);
}

const summary = await importDjango({
  source,
  target,
  transactionsTable,
  currency,
  since: values.since,
  skipInvalid: values['skip-invalid'],
  deleteMissing: values['delete-missing'],
  batchSize,
  progress: process.stderr,
}).catch(failed);
for (const r of summary.rejected) console.log(`[import-django] invalid ${r.table} ${r.id}: ${r.reason}`);
for (const c of summary.clashes) console.log(`[import-django] clash auth_user ${c.id}: ${c.reason}; left out with their transactions`);
const line = (name: string, c: (typeof summary)['users']) =>
  `[import-django] ${name}: ${c.read} read, ${c.inserted} inserted, ${c.updated} updated, ${c.unchanged} unchanged, ` +
  `${c.invalid} invalid${c.held ? `, ${c.held} valid rows held back with their batch` : ''}` +
  (c.clashed ? `, ${c.clashed} left out with a clashing user` : '');
console.log(line('users', summary.users));
console.log(line('transactions', summary.transactions) + (values['delete-missing'] ? `, ${summary.transactions.deleted} deleted` : ''));
const rows = summary.users.read + summary.transactions.read;
console.log(`[import-django] ${rows} rows in ${summary.seconds.toFixed(1)} s (${Math.round(rows / Math.max(summary.seconds, 0.001))} rows/s)`);
console.log(`[import-django] started reading at ${summary.startedAt} (old server's clock): use an earlier --since for the next delta`);
if (summary.clashes.length) {
  // Not skippable: each is two people under one id or name, which only a person can settle.
  console.log(
    `[import-django] ${summary.clashes.length} old users clash with accounts registered here: left out with their transactions; ` +
      'settle each by hand before the switch (docs/migrating-from-django.md, "Clashes")',
  );
}
if (summary.rejected.length && !values['skip-invalid']) {
  console.log('[import-django] batches with invalid rows were not written: fix the rows, or re-run with --skip-invalid');
}
if (summary.clashes.length || (summary.rejected.length && !values['skip-invalid'])) process.exit(1);
