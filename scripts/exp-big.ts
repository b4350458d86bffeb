// Experiment (not committed): the whole-list first page, custom vs generic plan, on the bench's data shape.
import pg from 'pg';
import { startLocalDatabase } from './lib/local-database.js';
import { listStatement } from '../lib/transactions/list.js';
import { transactionFiltersQuery } from '../lib/transactions/schema.js';

const db = await startLocalDatabase({ dataDir: process.env.EXP_DIR!, persistent: true, port: 54400, connectionLimit: 2, adminPassword: 'x', appPassword: 'y' });
const admin = new pg.Client({ connectionString: db.adminUrl });
await admin.connect();
if (process.env.SHARE) {
  const { rows: [{ o, m }] } = await admin.query(`SELECT (SELECT id FROM users WHERE username = 'bench1') AS o, (SELECT id FROM users WHERE username = 'bench2') AS m`);
  const { rows: [b] } = await admin.query(`INSERT INTO books (user_id, name, currency) VALUES ($1, 'shared', 'INR') RETURNING id`, [o]);
  await admin.query(`INSERT INTO book_members (book_id, user_id, role, status, invited_by, updated_by) VALUES ($1, $2, 'operator', 'active', $3, $3)`, [b.id, m, o]);
  await admin.query(`INSERT INTO transactions (user_id, book_id, type, amount, category, date, created_by, updated_by) SELECT $1, $2, 'expense', 5, 'x', DATE '2026-12-03', $3, $3 FROM generate_series(1, 40)`, [o, b.id, m]);
  await admin.query('ANALYZE');
}
const lit = (v: unknown) => (v === null ? 'NULL' : `'${String(v)}'`);
for (const name of (process.env.USERS ?? 'bench2,bench2').split(',')) {
  const { rows: [u] } = await admin.query(`SELECT id FROM users WHERE username = $1`, [name]);
  const user = { id: Number(u.id), issuedAt: Math.floor(Date.now() / 1000) };
  const bookId = process.env.BOOKNAME ? (await admin.query(`SELECT id FROM books WHERE name = $1`, [process.env.BOOKNAME])).rows[0].id : undefined;
  const { text, values } = listStatement(user, transactionFiltersQuery.parse(bookId ? { book: bookId } : {}), { limit: 50, offset: 0 });
  for (const mode of ['force_custom_plan', 'force_generic_plan']) {
    await admin.query(`SET plan_cache_mode = ${mode}`);
    await admin.query('DEALLOCATE ALL');
    await admin.query(`PREPARE q AS ${text}`);
    const { rows } = await admin.query(`EXPLAIN (ANALYZE, BUFFERS, COSTS ${process.env.COSTS ? 'ON' : 'OFF'}) EXECUTE q(${values.map(lit).join(', ')})`);
    console.log(`--- ${name} ${mode}`);
    console.log(rows.map((r) => r['QUERY PLAN']).join('\n'));
  }
}
await admin.end();
await db.server.stop();
