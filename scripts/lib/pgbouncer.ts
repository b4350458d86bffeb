import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, chownSync, constants, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import pg from 'pg';
import { freePort } from './embedded-postgres.js';

// PgBouncer in transaction mode between the API and PostgreSQL: the local stand-in for RDS
// Proxy (whose rules are a superset: no session state survives a transaction either way).
// Shared by `npm start` (DB_POOLER=pgbouncer), the test setup (TEST_POOLER=pgbouncer) and the bench.

export const INSTALL_HINT =
  'PgBouncer is not installed: install it (Debian/Ubuntu: `sudo apt-get install pgbouncer`, macOS: `brew install pgbouncer`) or unset DB_POOLER.';

/** The user allowed on PgBouncer's admin console (SHOW POOLS / SHOW CLIENTS). */
const CONSOLE_USER = 'pgbouncer_console';

export interface PgBouncer {
  port: number;
  pid: number;
  /** Pool size per database/user pair: the most server connections PgBouncer opens for the role. */
  poolSize: number;
  /** `serverUrl` rewritten to go through PgBouncer (same user, password and database). */
  appUrl: string;
  /** PgBouncer's admin console (database `pgbouncer`), for SHOW POOLS / SHOW CLIENTS. */
  consoleUrl: string;
  /** CPU time PgBouncer has used so far (ms, user + system). */
  cpuMs(): number;
  stop(): Promise<void>;
}

/** The pgbouncer executable on PATH (or Debian's /usr/sbin), or undefined. */
export function pgbouncerBinary(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/opt/homebrew/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, 'pgbouncer');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** utime + stime of one process, in ms (Linux /proc; 0 elsewhere). */
export function processCpuMs(pid: number, includeChildren = false): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]) + (includeChildren ? Number(fields[13]) + Number(fields[14]) : 0);
    return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
  } catch {
    return 0;
  }
}

// auth_file lines: "user" "secret" (double quotes doubled inside).
const quote = (s: string) => `"${s.replaceAll('"', '""')}"`;

/** The uid/gid PgBouncer drops to when started as root (it refuses to run as root). */
function unprivilegedUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
  const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
  return { name: 'postgres', uid, gid };
}

/** The role's stored SCRAM-SHA-256 verifier, or undefined (another method, or no access). */
async function scramVerifier(adminUrl: string, role: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'cashbook-pgbouncer-setup' });
  try {
    await client.connect();
    const { rows } = await client.query<{ secret: string | null }>('SELECT rolpassword AS secret FROM pg_authid WHERE rolname = $1', [role]);
    const secret = rows[0]?.secret;
    return secret?.startsWith('SCRAM-SHA-256$') ? secret : undefined;
  } catch {
    return undefined;
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function startPgBouncer(options: {
  /** A directory of its own (config, auth file, log, pid file). */
  dir: string;
  /** The direct URL of the application role (host, port, database, user, password). */
  serverUrl: string;
  /**
   * A superuser URL on the same server: PgBouncer then gets the role's SCRAM verifier (from
   * pg_authid) instead of its password. With the verifier it checks a client's proof with a few
   * HMACs and logs in to PostgreSQL with the client's own proof; with a plain password it runs
   * PBKDF2 (4,096 rounds) for every client login, which made it the busiest process under load.
   */
  adminUrl?: string;
  poolSize: number;
  port?: number;
  /** Client-side wait for a server connection before PgBouncer answers query_wait_timeout (s). */
  queryWaitTimeoutSeconds?: number;
  maxClientConnections?: number;
  log?: (line: string) => void;
}): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  if (!binary) throw new Error(INSTALL_HINT);
  const server = new URL(options.serverUrl);
  const user = decodeURIComponent(server.username);
  const password = decodeURIComponent(server.password);
  const database = decodeURIComponent(server.pathname.slice(1));
  const port = await freePort(options.port);
  const consolePassword = randomBytes(12).toString('hex');
  mkdirSync(options.dir, { recursive: true });
  const file = (name: string) => join(options.dir, name);
  const secret = (options.adminUrl && (await scramVerifier(options.adminUrl, user))) || password;
  // Secrets in a 0600 file; the clients authenticate to PgBouncer with SCRAM, as they would to RDS Proxy.
  writeFileSync(file('userlist.txt'), `${quote(user)} ${quote(secret)}\n${quote(CONSOLE_USER)} ${quote(consolePassword)}\n`, {
    mode: 0o600,
  });
  const runAs = unprivilegedUser();
  const config = [
    '[databases]',
    `${database} = host=${server.hostname} port=${server.port || 5432} dbname=${database}`,
    '[pgbouncer]',
    'listen_addr = 127.0.0.1',
    `listen_port = ${port}`,
    'unix_socket_dir =',
    'auth_type = scram-sha-256',
    `auth_file = ${file('userlist.txt')}`,
    'pool_mode = transaction',
    `default_pool_size = ${options.poolSize}`,
    'min_pool_size = 0',
    'reserve_pool_size = 0',
    `max_db_connections = ${options.poolSize}`,
    `max_client_conn = ${options.maxClientConnections ?? 1000}`,
    `query_wait_timeout = ${options.queryWaitTimeoutSeconds ?? 120}`,
    // A server connection idle this long is closed; PostgreSQL's idle_session_timeout on the role
    // would otherwise close it first and PgBouncer would hand a dead connection to a client.
    'server_idle_timeout = 30',
    'server_lifetime = 3600',
    `admin_users = ${CONSOLE_USER}`,
    `stats_users = ${CONSOLE_USER}`,
    // Sent by some drivers at startup; harmless to ignore (RDS Proxy ignores it too).
    'ignore_startup_parameters = extra_float_digits',
    `logfile = ${file('pgbouncer.log')}`,
    `pidfile = ${file('pgbouncer.pid')}`,
    ...(runAs ? [`user = ${runAs.name}`] : []),
    '',
  ].join('\n');
  writeFileSync(file('pgbouncer.ini'), config, { mode: 0o600 });
  if (runAs) for (const name of ['', 'userlist.txt', 'pgbouncer.ini']) chownSync(file(name), runAs.uid, runAs.gid);

  const child: ChildProcess = spawn(binary, [file('pgbouncer.ini')], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
    options.log?.(chunk.toString());
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  let exited = false;
  child.once('exit', () => (exited = true));
  const consoleUrl = `postgres://${CONSOLE_USER}:${consolePassword}@127.0.0.1:${port}/pgbouncer`;
  const appUrl = new URL(options.serverUrl);
  appUrl.hostname = '127.0.0.1';
  appUrl.port = String(port);

  const stop = async () => {
    if (exited) return;
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await Promise.race([gone, new Promise((r) => setTimeout(r, 3_000))]);
    if (!exited) child.kill('SIGKILL');
  };

  // Ready when the admin console answers.
  const until = Date.now() + 10_000;
  for (;;) {
    const client = new pg.Client({ connectionString: consoleUrl });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('SHOW VERSION');
      await client.end();
      break;
    } catch (err) {
      await client.end().catch(() => undefined);
      let log = '';
      try {
        log = readFileSync(file('pgbouncer.log'), 'utf8').split('\n').slice(-10).join('\n');
      } catch {
        // no log yet
      }
      if (exited || Date.now() > until) {
        await stop();
        throw new Error(`PgBouncer did not start on port ${port}:\n${output}${log}`, { cause: err });
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return {
    port,
    pid: child.pid!,
    poolSize: options.poolSize,
    appUrl: appUrl.toString(),
    consoleUrl,
    cpuMs: () => processCpuMs(child.pid!),
    stop,
  };
}

export interface PoolerActivity {
  /** Client connections to the application database (the console's own is not counted). */
  clients: number;
  /** Clients waiting for a server connection. */
  waiting: number;
  /** Server connections linked to a client (in a transaction) right now. */
  activeServers: number;
  /** Server connections open at all (idle ones included). */
  servers: number;
}

/** What PgBouncer holds for the application: from SHOW POOLS on its admin console. */
export async function poolerActivity(consoleUrl: string, database: string): Promise<PoolerActivity> {
  const client = new pg.Client({ connectionString: consoleUrl });
  await client.connect();
  try {
    const { rows } = await client.query<Record<string, string | number>>('SHOW POOLS');
    const total: PoolerActivity = { clients: 0, waiting: 0, activeServers: 0, servers: 0 };
    for (const row of rows) {
      if (row.database !== database) continue;
      const n = (key: string) => Number(row[key] ?? 0);
      total.clients += n('cl_active') + n('cl_waiting') + n('cl_cancel_req') + n('cl_active_cancel_req') + n('cl_waiting_cancel_req');
      total.waiting += n('cl_waiting');
      total.activeServers += n('sv_active') + n('sv_active_cancel') + n('sv_being_canceled');
      total.servers +=
        n('sv_active') + n('sv_idle') + n('sv_used') + n('sv_tested') + n('sv_login') + n('sv_active_cancel') + n('sv_being_canceled');
    }
    return total;
  } finally {
    await client.end();
  }
}

/**
 * `npm start` with DB_POOLER=pgbouncer: PgBouncer in front of `directUrl` (its own temp dir, a
 * free port, pool = the role's connection limit). Returns undefined when no pooler was asked
 * for; throws INSTALL_HINT when the binary is missing.
 */
export async function startPoolerIfAsked(
  pooler: string | undefined,
  directUrl: string,
  poolSize: number,
  say: (line: string) => void,
  adminUrl?: string,
): Promise<(PgBouncer & { dir: string }) | undefined> {
  if (!pooler) return undefined;
  if (pooler !== 'pgbouncer') throw new Error(`DB_POOLER must be "pgbouncer" (got "${pooler}")`);
  if (!pgbouncerBinary()) throw new Error(INSTALL_HINT);
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'cashbook-pgbouncer-'));
  const bouncer = await startPgBouncer({ dir, serverUrl: directUrl, adminUrl, poolSize }).catch((err) => {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  });
  say(`PgBouncer (transaction pooling, pool ${poolSize}) on 127.0.0.1:${bouncer.port} between the API and PostgreSQL (log: ${dir}/pgbouncer.log)`);
  const stop = async () => {
    await bouncer.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  return { ...bouncer, stop, dir };
}
