import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startLocalDatabase } from './lib/local-database.js';
import { listStatement, KEPT_LISTS } from '../lib/transactions/list.js';
import { keptName } from '../lib/kept.js';
import { transactionFiltersQuery } from '../lib/transactions/schema.js';

const db = await startLocalDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'exp-')), persistent: false, connectionLimit: 2, adminPassword: 'x', appPassword: 'y' });
const admin = new pg.Client({ connectionString: db.adminUrl });
await admin.connect();
await admin.query(`INSERT INTO users (username, password_hash) SELECT 'u' || i, 'x' FROM generate_series(1, 40) i`);
await admin.query(`INSERT INTO books (user_id, name, currency, is_default) SELECT id, 'Cashbook', 'INR', true FROM users`);
await admin.query(`INSERT INTO transactions (user_id, book_id, type, amount, category, date)
   SELECT u.id, b.id, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'seed', DATE '2026-01-01' + (i % 300)
   FROM users u JOIN books b ON b.user_id = u.id, generate_series(1, 100) i`);
await admin.query('VACUUM ANALYZE');
const { rows: [u1] } = await admin.query(`SELECT id FROM users WHERE username = 'u1'`);
const user = { id: Number(u1.id), issuedAt: Math.floor(Date.now() / 1000) };
const { text, values } = listStatement(user, transactionFiltersQuery.parse({}), { limit: 50, offset: 0 });
const name = keptName(text);
const call = `SELECT * FROM ${name}(${values.map((_, i) => `$${i + 1}`).join(', ')})`;
console.log('kept?', KEPT_LISTS.texts().includes(text));
const ns = (pid: number) => Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
async function fresh(label: string, sqls: string[], n = 30) {
  const t: number[][] = sqls.map(() => []);
  for (let i = 0; i < n; i++) {
    const c = new pg.Client({ connectionString: db.appUrl });
    await c.connect();
    const { rows: [{ pid }] } = await c.query('SELECT pg_backend_pid() AS pid');
    for (let k = 0; k < sqls.length; k++) {
      const a = ns(pid);
      await c.query(sqls[k]!, sqls[k]!.startsWith('SELECT 1') ? [] : values);
      t[k]!.push((ns(pid) - a) / 1e6);
    }
    await c.end();
  }
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[xs.length >> 1]!.toFixed(2);
  console.log(label, t.map((xs) => med(xs)).join(' / '), 'ms (median per call, fresh backend)');
}
for (let r = 0; r < 2; r++) {
  await fresh('inline then inline', [text, text]);
  await fresh('kept then kept    ', [call, call]);
  await fresh('inline then kept  ', [text, call]);
}
await admin.end();
await db.server.stop();
