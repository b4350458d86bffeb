import { afterAll, beforeAll, expect, inject, it } from 'vitest';
import { handler as getMe } from '../../functions/get-me.js';
import { handler as createTransaction } from '../../functions/create-transaction.js';
import { handler as listTransactions } from '../../functions/list-transactions.js';
import { handler as obtainToken } from '../../functions/obtain-token.js';
import { handler as register } from '../../functions/register.js';
import { describeWith } from '../support/components.js';
import { adminQuery, expectNoAppConnections, resetData } from '../support/db.js';
import { createOldDatabase, runImportDjango, runImportDjangoTo, django, type OldDatabase } from '../support/django.js';
import { startProxyFront } from '../support/proxy-front.js';
import { invoke } from '../support/events.js';

// `npm run import-django` against a database that Django 3.2 itself created (auth_user and the
// transactions app's table), with users whose hashes Django made.

const PASSWORD = 'correct-horse-battery';
let old: OldDatabase;

const run = (...args: string[]) => runImportDjango(old.url, ...args);

/** Transactions in the old table, as Django's ORM would have stored them. */
async function addOld(rows: Array<{ user: number; type?: string; amount: string; mode?: string; date?: string; at?: string }>) {
  for (const r of rows) {
    await old.query(
      `INSERT INTO transactions_transaction (id, user_id, type, amount, category, description, date, payment_mode, created_at, updated_at)
       VALUES (gen_random_uuid(), $1, $2, $3, 'food', 'lunch ☕', $4, $5, $6, $6)`,
      [r.user, r.type ?? 'expense', r.amount, r.date ?? '2024-05-01', r.mode ?? 'cash', r.at ?? '2024-05-01 12:00:00.123456+00'],
    );
  }
}

const newCount = async (sql: string, values: unknown[] = []) => Number((await adminQuery<{ n: string }>(sql, values))[0]!.n);

describeWith(['django'], 'import-django', () => {
  beforeAll(async () => {
    await resetData();
    old = await createOldDatabase();
    const ids = JSON.parse(
      await django(
        ['users', JSON.stringify([{ username: 'alice', email: 'a@example.com', password: PASSWORD }, { username: 'bob', password: PASSWORD }])],
        old.name,
      ),
    );
    expect(ids).toEqual([1, 2]);
    // Ids need not be dense: a deleted user leaves a gap, and the imported ids keep it.
    await old.query(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined, last_login)
      SELECT 40, password, false, 'carol', '', '', '', false, false, '2020-02-02 02:02:02.5+00', '2024-01-01 00:00:00+00' FROM auth_user WHERE id = 1`);
    await addOld([
      { user: 1, type: 'income', amount: '1000.00', mode: 'bank' },
      { user: 1, amount: '12.34', mode: 'upi' },
      { user: 1, amount: '0.01' },
      { user: 2, amount: '999999999999.99', mode: 'card' },
      { user: 40, type: 'income', amount: '5.50', mode: 'cheque' },
    ]);
  }, 120_000);

  afterAll(async () => {
    await old?.drop();
    await expectNoAppConnections();
  });

  it('copies users with their ids and hashes, and transactions into each user’s default book', async () => {
    const res = await run('--batch', '2');
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('users: 3 read, 3 inserted, 0 updated, 0 unchanged, 0 invalid');
    expect(res.stdout).toContain('transactions: 5 read, 5 inserted, 0 updated, 0 unchanged, 0 invalid');
    const users = await adminQuery(
      `SELECT u.id::int, u.username, u.email, u.is_active, u.date_joined::text, u.last_login::text, u.password_hash LIKE 'pbkdf2_sha256$%' AS django_hash,
              (SELECT count(*)::int FROM books b WHERE b.user_id = u.id AND b.is_default AND b.currency = 'EUR') AS books
       FROM users u ORDER BY u.id`,
    );
    expect(users).toEqual([
      { id: 1, username: 'alice', email: 'a@example.com', is_active: true, date_joined: expect.any(String), last_login: null, django_hash: true, books: 1 },
      { id: 2, username: 'bob', email: '', is_active: true, date_joined: expect.any(String), last_login: null, django_hash: true, books: 1 },
      { id: 40, username: 'carol', email: '', is_active: false, date_joined: '2020-02-02 02:02:02.5+00', last_login: '2024-01-01 00:00:00+00', django_hash: true, books: 1 },
    ]);
    expect(await newCount(
      'SELECT count(*) AS n FROM transactions t JOIN books b ON b.id = t.book_id AND b.user_id = t.user_id AND b.is_default',
    )).toBe(5);
    const fields = `id::text, user_id::int, type, amount::text, category, description, date::text, payment_mode,
                    created_at::text, updated_at::text`;
    const oldRows = await old.query(`SELECT ${fields} FROM transactions_transaction ORDER BY id`);
    expect(await adminQuery(`SELECT ${fields} FROM transactions ORDER BY id`)).toEqual(oldRows);
  });

  it('lets the imported users log in with their Django passwords and see their data under the same id', async () => {
    const login = await invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username: 'alice', password: PASSWORD } });
    expect(login.status).toBe(200);
    expect((await invoke(getMe, { path: '/api/me/', token: login.body.access })).body).toMatchObject({ id: 1, username: 'alice', email: 'a@example.com' });
    const list = await invoke(listTransactions, { path: '/api/transactions/', token: login.body.access });
    expect(list.body.count).toBe(3);
    expect(list.body.results.map((t: { amount: string }) => t.amount).sort()).toEqual(['0.01', '1000.00', '12.34']);
  });

  it('moves the id sequence past the imported ids', async () => {
    const res = await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'newcomer', password: PASSWORD } });
    expect(res.status).toBe(201);
    // Past the highest imported id (40); higher still when earlier test files registered users.
    expect(Number.isInteger(res.body.id) && res.body.id > 40).toBe(true);
    await adminQuery("DELETE FROM users WHERE username = 'newcomer'");
  });

  it('changes nothing on a second run', async () => {
    const before = await adminQuery('SELECT xmin::text, xmax::text, id::text FROM transactions ORDER BY id');
    const res = await run();
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('transactions: 5 read, 0 inserted, 0 updated, 5 unchanged, 0 invalid');
    // alice's hash was upgraded to scrypt by her login here: the re-run puts Django's back (the
    // old database is the source of truth until cutover), bob and carol are untouched.
    expect(res.stdout).toContain('users: 3 read, 0 inserted, 1 updated, 2 unchanged, 0 invalid');
    expect(await adminQuery('SELECT xmin::text, xmax::text, id::text FROM transactions ORDER BY id')).toEqual(before);
  });

  it('copies only what changed after --since, and with --delete-missing removes what was deleted', async () => {
    const since = (await old.query<{ now: string }>('SELECT now()::text AS now'))[0]!.now;
    await new Promise((r) => setTimeout(r, 20));
    await old.query(`UPDATE transactions_transaction SET amount = 13.00, category = 'rent', updated_at = now() WHERE amount = 12.34`);
    await old.query(`DELETE FROM transactions_transaction WHERE amount = 0.01`);
    await addOld([{ user: 2, type: 'income', amount: '7.00', at: new Date(Date.now() + 1000).toISOString() }]);
    const res = await run('--since', since, '--delete-missing');
    expect(res.code).toBe(0);
    expect(res.stdout).toContain('transactions: 2 read, 1 inserted, 1 updated, 0 unchanged, 0 invalid, 1 deleted');
    const rows = await adminQuery<{ a: string; category: string }>('SELECT amount::text AS a, category FROM transactions ORDER BY amount');
    expect(rows.map((r) => `${r.a} ${r.category}`)).toEqual(['5.50 food', '7.00 food', '13.00 rent', '1000.00 food', '999999999999.99 food']);
  });

  it('--verify finds no difference after the import, and names each difference it finds', async () => {
    const ok = await run('--verify');
    expect(ok.stdout).toContain('[verify] 3 users, 5 transactions, 5 sampled: no differences');
    expect(ok.code).toBe(0);
    await adminQuery(`UPDATE transactions SET amount = amount + 0.01 WHERE amount = 13.00`);
    await adminQuery(`UPDATE users SET email = 'changed@example.com' WHERE id = 2`);
    const bad = await run('--verify');
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('user 2: email differs');
    expect(bad.stdout).toContain('user 1: transaction expense old 13.00, new 13.01');
    expect(bad.stdout).toMatch(/transaction [0-9a-f-]{36}: amount differs/);
    expect(bad.stdout).not.toContain('pbkdf2');
    // The next run repairs both (each is a difference from the old database).
    expect((await run()).code).toBe(0);
    expect((await run('--verify')).code).toBe(0);
  });

  it('lists invalid rows by id with the reason and does not write their batch; --skip-invalid imports the rest', async () => {
    await old.query(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
      VALUES (50, 'argon2$argon2id$v=19$m=102400,t=2,p=8$c2FsdA$aGFzaA', false, 'dave', '', '', '', false, true, now())`);
    await old.query(`INSERT INTO transactions_transaction (id, user_id, type, amount, category, description, date, payment_mode, created_at, updated_at) VALUES
      ('ffffffff-0000-4000-8000-000000000001', 2, 'transfer', 1.00, '', '', '2024-06-01', 'cash', now(), now()),
      ('ffffffff-0000-4000-8000-000000000002', 2, 'expense', 0.00, '', '', '2024-06-01', 'cash', now(), now()),
      ('ffffffff-0000-4000-8000-000000000003', 2, 'expense', 1.00, '', '', '2024-06-01', 'paypal', now(), now()),
      ('ffffffff-0000-4000-8000-000000000004', 50, 'expense', 1.00, '', '', '2024-06-01', 'cash', now(), now()),
      ('ffffffff-0000-4000-8000-000000000005', 2, 'expense', 2.00, '', '', '2024-06-01', 'cash', now(), now())`);
    const res = await run('--batch', '5000');
    expect(res.code).toBe(1);
    expect(res.stdout).toContain('invalid auth_user 50: unsupported password hash format (argon2)');
    expect(res.stdout).toContain('invalid transactions ffffffff-0000-4000-8000-000000000001: unknown type "transfer"');
    expect(res.stdout).toContain('invalid transactions ffffffff-0000-4000-8000-000000000002: amount 0.00 is not positive');
    expect(res.stdout).toContain('invalid transactions ffffffff-0000-4000-8000-000000000003: unknown payment_mode "paypal"');
    expect(res.stdout).toContain('invalid transactions ffffffff-0000-4000-8000-000000000004: user 50 is missing');
    expect(res.stdout).not.toContain('argon2id');
    // One batch held everything: the valid row 5 was not written either.
    expect(await newCount("SELECT count(*) AS n FROM transactions WHERE id::text LIKE 'ffffffff%'")).toBe(0);
    expect(await newCount('SELECT count(*) AS n FROM users WHERE id = 50')).toBe(0);

    const skipped = await run('--skip-invalid');
    expect(skipped.code).toBe(0);
    expect(skipped.stdout).toContain('transactions: 10 read, 1 inserted, 0 updated, 5 unchanged, 4 invalid');
    expect(await newCount("SELECT count(*) AS n FROM transactions WHERE id::text LIKE 'ffffffff%'")).toBe(1);
  });

  it('holds at most one connection to each database, and none after it ends', async () => {
    // Each database behind a TCP front that counts the connections open at once: exact, where
    // sampling pg_stat_activity would see a closing backend beside its successor (with --batch 1
    // they follow each other every few milliseconds).
    const via = async (url: string) => {
      const u = new URL(url);
      const front = await startProxyFront({ host: u.hostname, port: Number(u.port) });
      u.hostname = '127.0.0.1';
      u.port = String(front.port);
      return { front, url: u.toString() };
    };
    const from = await via(old.url);
    const to = await via(inject('adminUrl'));
    try {
      const res = await runImportDjangoTo(to.url, from.url, '--batch', '1', '--skip-invalid');
      expect(res.code).toBe(0);
      expect(res.stdout).toMatch(/transactions: \d+ read/);
      expect([from.front.maxOpen, to.front.maxOpen]).toEqual([1, 1]);
      expect([from.front.open, to.front.open]).toEqual([0, 0]);
    } finally {
      await from.front.close();
      await to.front.close();
    }
    // A closed connection's backend takes a moment to exit.
    let left = 1;
    for (const until = Date.now() + 2_000; left > 0 && Date.now() < until; await new Promise((r) => setTimeout(r, 25))) {
      left = await newCount(`SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = 'cashbook-import-django'`);
    }
    expect(left).toBe(0);
  });

  it('refuses bad arguments with usage and exit code 2', async () => {
    const res = await run('--since', 'yesterday-ish');
    expect(res.code).toBe(2);
    expect(res.stderr).toContain('--since must be a timestamp');
    expect((await run('--transactions-table', 'a.b.c')).code).toBe(2);
  });
});

describeWith(['django'], 'import-django during a cutover: an id or a name given out by both backends', () => {
  const BEFORE = '2000-01-01T00:00:00Z';
  /** An old-backend user made as Django's ORM stores one (alice's hash: its password is PASSWORD). */
  const addOldUser = (id: number, username: string, joined = 'now()') =>
    old.query(`INSERT INTO auth_user (id, password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
      SELECT $1, password, false, $2, '', '', '', false, true, ${joined} FROM auth_user WHERE id = 1`, [id, username]);
  const login = (username: string, password: string) =>
    invoke(obtainToken, { method: 'POST', path: '/api/token/', body: { username, password } });
  const account = (id: number) =>
    adminQuery(
      `SELECT u.username, u.password_hash, u.date_joined::text,
              (SELECT json_agg(b ORDER BY b.id) FROM books b WHERE b.user_id = u.id) AS books,
              (SELECT json_agg(t.id ORDER BY t.id) FROM transactions t WHERE t.user_id = u.id) AS transactions
       FROM users u WHERE u.id = $1`,
      [id],
    );

  beforeAll(async () => {
    await resetData();
    old = await createOldDatabase();
    await django(['users', JSON.stringify([{ username: 'alice', password: PASSWORD }, { username: 'bob', password: PASSWORD }])], old.name);
    await addOld([{ user: 1, amount: '1.00' }, { user: 2, amount: '2.00' }]);
    expect((await run()).code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await old?.drop();
    await expectNoAppConnections();
  });

  it('leaves an account registered here alone when the old backend gave its id to someone else, and exits 1', async () => {
    // Registration was left open: both backends hand out the next id to different people.
    const mine = await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'newcomer', password: 'newcomer-secret' } });
    expect(mine.status).toBe(201);
    const id: number = mine.body.id;
    const token = (await login('newcomer', 'newcomer-secret')).body.access;
    expect((await invoke(createTransaction, { method: 'POST', path: '/api/transactions/', token, body: { type: 'income', amount: '42.00' } })).status).toBe(201);
    const before = await account(id);
    await addOldUser(id, 'mallory');
    await addOldUser(id + 1, 'erin');
    await addOld([{ user: id, amount: '66.60', at: new Date().toISOString() }, { user: id + 1, amount: '3.00', at: new Date().toISOString() }]);

    const res = await run('--since', BEFORE, '--delete-missing');
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(
      new RegExp(`clash auth_user ${id}: id ${id} is another account here: "newcomer" joined .+, not the old backend's "mallory" joined .+; left out with their transactions`),
    );
    expect(res.stdout).toContain('users: 4 read, 1 inserted, 0 updated, 2 unchanged, 0 invalid, 1 left out with a clashing user');
    expect(res.stdout).toContain('transactions: 4 read, 1 inserted, 0 updated, 2 unchanged, 0 invalid, 1 left out with a clashing user, 0 deleted');
    expect(res.stdout).not.toContain('pbkdf2');
    // The account here is untouched: name, password, books, and its transaction (which the old
    // database never had, yet --delete-missing kept); mallory's transaction is not in it.
    expect(await account(id)).toEqual(before);
    expect((await login('newcomer', 'newcomer-secret')).status).toBe(200);
    expect((await login('mallory', PASSWORD)).status).toBe(401);
    const mine2 = await invoke(listTransactions, { path: '/api/transactions/', token });
    expect(mine2.body.results.map((t: { amount: string }) => t.amount)).toEqual(['42.00']);
    // The rest of the batch went in.
    expect((await login('erin', PASSWORD)).status).toBe(200);
    expect(await newCount('SELECT count(*) AS n FROM transactions WHERE user_id = $1', [id + 1])).toBe(1);
    // --verify does not pass over it either.
    const verify = await run('--verify');
    expect(verify.code).toBe(1);
    expect(verify.stdout).toContain(`user ${id}: username differs`);
  });

  it('leaves out an old user whose name was registered here under another id', async () => {
    const theirs = await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'frank', password: 'frank-secret' } });
    expect(theirs.status).toBe(201);
    await addOldUser(900, 'frank');
    await addOld([{ user: 900, amount: '9.00' }]);
    const res = await run('--since', BEFORE);
    expect(res.code).toBe(1);
    expect(res.stdout).toMatch(new RegExp(`clash auth_user 900: username "frank" is taken here by user ${theirs.body.id} \\("frank", joined .+\\); left out with their transactions`));
    // Not "user 900 is missing": the clash holds back no batch, and nothing of 900's is written.
    expect(res.stdout).not.toContain('is missing');
    expect(res.stdout).toMatch(/transactions: \d+ read, 0 inserted, 0 updated, \d+ unchanged, 0 invalid, 2 left out with a clashing user/);
    expect(await newCount('SELECT count(*) AS n FROM users WHERE id = 900')).toBe(0);
    expect(await newCount("SELECT count(*) AS n FROM transactions WHERE amount = 9.00")).toBe(0);
    expect((await login('frank', 'frank-secret')).status).toBe(200);
  });

  it('stores names NFKC-normalised, so an imported "ｇrace" logs in and "grace" cannot register beside her', async () => {
    await addOldUser(910, 'ｇrace');
    await run();
    expect(await adminQuery('SELECT username FROM users WHERE id = 910')).toEqual([{ username: 'grace' }]);
    const token = await login('ｇrace', PASSWORD);
    expect(token.status).toBe(200);
    expect((await invoke(getMe, { path: '/api/me/', token: token.body.access })).body).toMatchObject({ id: 910, username: 'grace' });
    expect((await login('grace', PASSWORD)).status).toBe(200);
    const twin = await invoke(register, { method: 'POST', path: '/api/register/', body: { username: 'grace', password: 'another-secret' } });
    expect(twin.status).toBe(400);
    expect(twin.body).toEqual({ username: ['A user with that username already exists.'] });
    // The database itself holds it, whatever writes the row.
    await expect(adminQuery("INSERT INTO users (username, password_hash) VALUES ('ｇrace', '!')")).rejects.toThrow(/users_username_nfkc_key/);
  });

  it('reports two old names that are one once normalised: the lower id keeps it', async () => {
    await addOldUser(920, 'ｈeidi');
    await addOldUser(921, 'heidi');
    await addOldUser(922, 'ａlice');
    await addOld([{ user: 921, amount: '92.10' }, { user: 922, amount: '92.20' }]);
    const res = await run();
    expect(res.code).toBe(1);
    expect(res.stdout).toContain(
      'clash auth_user 921: username "heidi" is, once normalised, the same name as user 920\'s "ｈeidi" (NFKC: "heidi") of the old backend, which keeps it',
    );
    expect(res.stdout).toContain('clash auth_user 922: username "ａlice" (NFKC: "alice") is, once normalised, the same name as user 1\'s "alice"');
    expect(await adminQuery('SELECT id::int, username FROM users WHERE id >= 920 ORDER BY id')).toEqual([{ id: 920, username: 'heidi' }]);
    expect(await newCount('SELECT count(*) AS n FROM transactions WHERE amount IN (92.10, 92.20)')).toBe(0);
    expect((await login('alice', PASSWORD)).status).toBe(200);
    // One user per batch: each finds the name already taken here, by the normalised index.
    const alone = await run('--batch', '1');
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain('clash auth_user 921: username "heidi" is taken here by user 920 ("heidi", joined');
    expect(alone.stdout).toContain('clash auth_user 922: username "ａlice" (NFKC: "alice") is taken here by user 1 ("alice", joined');
  });
});
