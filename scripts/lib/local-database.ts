import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
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
