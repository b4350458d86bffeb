// `npm run import-users -- auth_user.csv`: loads users exported from the old Django backend
// (id, username, email, password, date_joined, is_active, last_login) into DATABASE_URL (or
// MIGRATE_DATABASE_URL), keeping their ids, each with a default book in DEFAULT_CURRENCY.
// Idempotent: users that already exist (same id, same name, same date_joined) are left alone, so
// the import can be re-run after a failure. A row whose id or (NFKC-normalised) name belongs to
// someone else here is a clash: reported, left out, and the exit code is 1 — never written over
// that account. `npm run import-django` reads the old database directly instead.
import { readFileSync } from 'node:fs';
import { importUsers, normalisedDuplicates, parseDjangoUsers, type Clash } from '../lib/auth/import.js';
import { DEFAULT_PBKDF2_ITERATIONS, databaseFromUrl } from '../lib/config.js';
import { withConnection } from '../lib/db.js';
import { isCurrencyCode } from '../lib/currency.js';

const BATCH = 1_000;

const file = process.argv[2];
const url = process.env.MIGRATE_DATABASE_URL ?? process.env.DATABASE_URL;
const currency = (process.env.DEFAULT_CURRENCY || 'INR').toUpperCase();
if (!file || !url) {
  console.error('Usage: DATABASE_URL=postgres://... npm run import-users -- auth_user.csv');
  process.exit(2);
}
if (!isCurrencyCode(currency)) {
  console.error('DEFAULT_CURRENCY must be an ISO 4217 currency code');
  process.exit(2);
}

// The same cap as the functions' (lib/config.ts): a hash above it could never log in.
const maxIterations = Number(process.env.PASSWORD_PBKDF2_ITERATIONS || DEFAULT_PBKDF2_ITERATIONS);
const rows = parseDjangoUsers(readFileSync(file, 'utf8'), maxIterations);
const duplicates = normalisedDuplicates(rows);
const clashes: Clash[] = [...duplicates.values()];
const users = rows.filter((_, n) => !duplicates.has(n));
const db = databaseFromUrl(url, 'cashbook-import-users');
let created = 0;
for (let i = 0; i < users.length; i += BATCH) {
  const batch = await withConnection((c) => importUsers(c, users.slice(i, i + BATCH), currency), { db });
  created += batch.created;
  clashes.push(...batch.clashes);
}
for (const c of clashes) console.log(`[import-users] clash ${c.id === undefined ? c.username : `id ${c.id}`}: ${c.reason}; left out`);
console.log(
  `[import-users] ${rows.length} rows read, ${created} users created, ${rows.length - created - clashes.length} already present` +
    (clashes.length ? `, ${clashes.length} clash${clashes.length === 1 ? '' : 'es'} left out` : ''),
);
if (clashes.length) {
  console.log('[import-users] a clash is someone else here under the same id or name: resolve it by hand (docs/migrating-from-django.md, "Clashes")');
  process.exit(1);
}
