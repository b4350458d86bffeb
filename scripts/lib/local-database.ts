import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { createDatabase, migrate, setupAppRole, type RoleSettings } from './database-setup.js';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.js';

// An embedded PostgreSQL with the production constraint: the application role may hold only
// `connectionLimit` connections at once.

export const APP_DATABASE = 'cashbook';
export const APP_ROLE = 'cashbook_app';

export interface LocalDatabase {
  server: EmbeddedServer;
  /** What the API uses (the application role). */
  appUrl: string;
  /** Superuser on the app database (setup, tests' pg_stat_activity checks). */
  adminUrl: string;
}

/**
 * Where `npm start` keeps the embedded database and its secrets: outside the project, because
 * every file PostgreSQL writes inside a watched tree is work for the bundler's file watcher (it
 * grew serverless-offline until Node's heap limit killed it). One folder per checkout (its name
 * and a hash of its path). As root, PostgreSQL runs as the `postgres` user, which cannot enter
 * root's home (mode 700): root's data goes to /var/lib, everyone else's to XDG_DATA_HOME.
 */
export function defaultLocalDataDir(projectRoot: string, xdgDataHome?: string): string {
  const real = realpathSync(projectRoot);
  const key = `${basename(real)}-${createHash('sha256').update(real).digest('hex').slice(0, 8)}`;
  if (process.getuid?.() === 0) return join('/var/lib/cashbook-api', key);
  return join(xdgDataHome || join(homedir(), '.local', 'share'), 'cashbook-api', key);
}

/** A secret kept in a file next to the data, so a restarted stack keeps its passwords. */
export function persistentSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const secret = randomBytes(24).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

export async function startLocalDatabase(options: {
  dataDir: string;
  persistent: boolean;
  connectionLimit: number;
  port?: number;
  adminPassword: string;
  appPassword: string;
  roleSettings?: RoleSettings;
  flags?: string[];
  log?: (line: string) => void;
}): Promise<LocalDatabase> {
  const server = await startEmbeddedPostgres({
    dataDir: options.dataDir,
    persistent: options.persistent,
    port: options.port,
    adminPassword: options.adminPassword,
    flags: options.flags,
    log: options.log,
  });
  try {
    await createDatabase(server.adminUrl(), APP_DATABASE);
    const adminUrl = server.adminUrl(APP_DATABASE);
    await migrate(adminUrl, options.log);
    await setupAppRole(adminUrl, {
      name: APP_ROLE,
      password: options.appPassword,
      connectionLimit: options.connectionLimit,
      settings: options.roleSettings,
    });
    const appUrl = `postgres://${APP_ROLE}:${encodeURIComponent(options.appPassword)}@127.0.0.1:${server.port}/${APP_DATABASE}`;
    return { server, appUrl, adminUrl };
  } catch (err) {
    await server.stop();
    throw err;
  }
}

/**
 * Runs `work` on a scratch local database (random passwords, the application role limited to 2
 * connections) that is deleted afterwards: the measuring scripts' (scripts/explain-ledger.ts,
 * scripts/fresh-backend.ts).
 */
export async function withScratchDatabase<T>(name: string, flags: string[], work: (local: LocalDatabase) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), `cashbook-${name}-`));
  try {
    const local = await startLocalDatabase({
      dataDir: join(dir, 'pg'),
      persistent: false,
      connectionLimit: 2,
      adminPassword: randomBytes(12).toString('hex'),
      appPassword: randomBytes(12).toString('hex'),
      flags,
    });
    try {
      return await work(local);
    } finally {
      await local.server.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
