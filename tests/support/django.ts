import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { PYTHON } from './components.js';
import { adminQuery } from './db.js';

// The old Django backend, for real: Debian's python3-django 3.2, djangorestframework and
// djangorestframework-simplejwt 5.2 (installed by .ci/run; suites that use it declare
// describeWith(['django'], …) from ./components.ts), with the project in
// tests/support/django (settings, the transactions app and its migration as makemigrations
// wrote it). Its database is a uniquely named one on the test server, created by Django's own
// `migrate`, so the import reads exactly the tables Django 3.2 makes.

const CLI = fileURLToPath(new URL('./django/cli.py', import.meta.url));

/** Runs tests/support/django/cli.py; rejects (with Python's stderr) on a non-zero exit. */
export async function django(args: string[], database?: string): Promise<string> {
  const admin = new URL(inject('adminUrl'));
  const { stdout } = await promisify(execFile)(PYTHON, [CLI, ...args], {
    env: {
      PATH: process.env.PATH,
      PYTHONDONTWRITEBYTECODE: '1',
      JWT_SECRET: process.env.JWT_SECRET,
      DJANGO_DB_HOST: admin.hostname,
      DJANGO_DB_PORT: admin.port,
      DJANGO_DB_NAME: database ?? '',
      DJANGO_DB_USER: decodeURIComponent(admin.username),
      DJANGO_DB_PASSWORD: decodeURIComponent(admin.password),
    },
  });
  return stdout.trim();
}

export interface OldDatabase {
  name: string;
  /** Superuser URL of the old database (what `--from` gets). */
  url: string;
  query<R extends Record<string, unknown> = Record<string, unknown>>(text: string, values?: unknown[]): Promise<R[]>;
  drop(): Promise<void>;
}

/** A fresh database migrated by Django itself. */
export async function createOldDatabase(): Promise<OldDatabase> {
  const name = `django_old_${randomBytes(4).toString('hex')}`;
  await adminQuery(`CREATE DATABASE ${name}`);
  await django(['migrate'], name);
  const url = new URL(inject('adminUrl'));
  url.pathname = `/${name}`;
  const pg = (await import('pg')).default;
  return {
    name,
    url: url.toString(),
    async query(text, values = []) {
      const client = new pg.Client({ connectionString: url.toString(), application_name: 'cashbook-test-django' });
      await client.connect();
      try {
        return (await client.query(text, values)).rows;
      } finally {
        await client.end();
      }
    },
    drop: async () => void (await adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)),
  };
}

/** Runs `npm run import-django -- --from <oldUrl> …args` into the test database; never rejects. */
export async function runImportDjango(oldUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return runImportDjangoTo(inject('adminUrl'), oldUrl, ...args);
}

/** `npm run import-django` into `targetUrl` (DATABASE_URL). */
export async function runImportDjangoTo(targetUrl: string, oldUrl: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await promisify(execFile)('node_modules/.bin/tsx', ['scripts/import-django.ts', '--from', oldUrl, ...args], {
      env: { ...process.env, DATABASE_URL: targetUrl, DEFAULT_CURRENCY: 'EUR' },
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
