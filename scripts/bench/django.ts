// The old backend beside this project (`npm run bench -- --modes=http,django`): Django 3.2, DRF
// and SimpleJWT from Debian's packages under gunicorn (4 workers × 4 threads, as it ran), with the
// project in tests/support/django. It gets its own role with the same CONNECTION LIMIT and a SCRAM
// password on the same PostgreSQL server, its own database migrated by Django, the same users'
// worth of rows, and tokens signed with the shared secret; then the bench drives it with the same
// load and meters as this project, so both sides' costs come from one machine and one run
// (machines of this kind differ by up to 4 × in what a connection costs: docs/capacity.md).
import { spawn, spawnSync, execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from '../lib/embedded-postgres.js';

export const OLD_ROLE = 'cashbook_old';
export const OLD_DATABASE = 'cashbook_old';
const PYTHON = '/usr/bin/python3';
const PROJECT = fileURLToPath(new URL('../../tests/support/django/', import.meta.url));

export const DJANGO_INSTALL_HINT =
  'The old backend needs Django, DRF, SimpleJWT, psycopg2 and gunicorn for /usr/bin/python3 (Debian/Ubuntu: `sudo apt-get install python3-django python3-djangorestframework python3-djangorestframework-simplejwt python3-psycopg2 gunicorn`).';

/** Whether the old backend can run here. */
export function djangoInstalled(): boolean {
  const imports = spawnSync(PYTHON, ['-c', 'import django, rest_framework, rest_framework_simplejwt, psycopg2, gunicorn'], { stdio: 'ignore' });
  return imports.status === 0;
}

/** Django's settings.py reads its database from these. */
function databaseEnv(url: string): Record<string, string> {
  const u = new URL(url);
  return {
    DJANGO_DB_HOST: u.hostname,
    DJANGO_DB_PORT: u.port || '5432',
    DJANGO_DB_NAME: decodeURIComponent(u.pathname.slice(1)),
    DJANGO_DB_USER: decodeURIComponent(u.username),
    DJANGO_DB_PASSWORD: decodeURIComponent(u.password),
  };
}

/**
 * The old backend's role (`budget` connections, SCRAM) and database, migrated by Django, with
 * `users` users of 100 transactions each as the bench seeds for this project. Returns the role's
 * URL and the users' ids in order.
 */
export async function setUpOldDatabase(adminUrl: string, budget: number, users: number): Promise<{ url: string; userIds: number[] }> {
  const password = randomBytes(12).toString('hex');
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE ROLE ${OLD_ROLE} LOGIN PASSWORD ${admin.escapeLiteral(password)} CONNECTION LIMIT ${Math.trunc(budget)}`);
    await admin.query(`CREATE DATABASE ${OLD_DATABASE} OWNER ${OLD_ROLE}`);
    // As on RDS (and this project's sessions): a server whose TimeZone is not exactly 'UTC' (the
    // embedded one takes the machine's, 'Etc/UTC') gets Django's `SET TIME ZONE` on every connect.
    await admin.query(`ALTER ROLE ${OLD_ROLE} SET timezone = 'UTC'`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.username = OLD_ROLE;
  url.password = password;
  url.pathname = `/${OLD_DATABASE}`;
  await promisify(execFile)(PYTHON, [`${PROJECT}cli.py`, 'migrate'], {
    env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', ...databaseEnv(url.toString()) },
  });
  const oldAdmin = new URL(adminUrl);
  oldAdmin.pathname = `/${OLD_DATABASE}`;
  const c = new pg.Client({ connectionString: oldAdmin.toString() });
  await c.connect();
  try {
    // Users that can only log in with a token (an unusable password, as Django writes one).
    const { rows } = await c.query<{ id: number }>(
      `INSERT INTO auth_user (password, is_superuser, username, first_name, last_name, email, is_staff, is_active, date_joined)
       SELECT '!bench', false, 'bench' || i, '', '', '', false, true, now() FROM generate_series(1, $1) i RETURNING id`,
      [users],
    );
    await c.query(
      `INSERT INTO transactions_transaction (id, user_id, type, amount, category, description, date, payment_mode, created_at, updated_at)
       SELECT gen_random_uuid(), u.id, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'seed', '',
              DATE '2026-01-01' + (i % 300), 'cash', now(), now()
       FROM auth_user u, generate_series(1, 100) i`,
    );
    await c.query('ANALYZE');
    return { url: url.toString(), userIds: rows.map((r) => r.id) };
  } finally {
    await c.end();
  }
}

export interface OldBackend {
  pid: number;
  baseUrl: string;
  stop(): Promise<void>;
}

/** gunicorn serving the old backend on a free port, its database at `databaseUrl` (direct or PgBouncer). */
export async function startOldBackend(databaseUrl: string, jwtSecret: string): Promise<OldBackend> {
  const port = await freePort();
  const child = spawn(
    PYTHON,
    ['-m', 'gunicorn', '--workers', '4', '--threads', '4', '--bind', `127.0.0.1:${port}`, '--chdir', PROJECT, '--log-level', 'warning', 'wsgi:application'],
    {
      env: { PATH: process.env.PATH, PYTHONDONTWRITEBYTECODE: '1', JWT_SECRET: jwtSecret, ...databaseEnv(databaseUrl) },
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  let spawnError: Error | undefined;
  const exited = new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.once('error', (err) => {
      spawnError = err;
      resolve();
    });
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode === null && !spawnError) child.kill('SIGTERM');
    await exited;
  };
  // Ready when it answers an unauthenticated list with DRF's 401.
  for (const started = Date.now(); ; ) {
    if (spawnError) throw spawnError;
    if (child.exitCode !== null) throw new Error(`gunicorn exited with ${child.exitCode}: ${stderr}`);
    const status = await fetch(`${baseUrl}/api/transactions/`, { signal: AbortSignal.timeout(2_000) }).then((r) => r.status, () => 0);
    if (status === 401) break;
    if (status !== 0 || Date.now() - started > 30_000) {
      await stop();
      throw new Error(`the old backend answered ${status || 'nothing'} instead of 401: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return { pid: child.pid!, baseUrl, stop };
}
