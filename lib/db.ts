import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { getConfig, type DatabaseConfig } from './config.js';
import { DatabaseUnavailable, RequestTimeout } from './errors.js';
import { iamAuthToken } from './iam-token.js';
import { ConnectBackoff } from './backoff.js';

// The one door to the database. Every call opens exactly one pg.Client and closes it in
// `finally`; there is no pool and nothing survives the returned promise.
// Proxy-safe by construction: no SET, no named statements, no startup `options`.

/** What data-access functions get: text + positional parameters only (no named statements). */
export interface Db {
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

/** Per-invocation counters, reported in the invocation's log line. */
export interface ConnectionStats {
  connectAttempts: number;
  connectMs: number;
  heldMs: number;
}

export interface ConnectionOptions {
  /** Aborted by the early timeout: the client is ended at once. */
  signal?: AbortSignal;
  /** Epoch ms after which no new connect attempt starts (the invocation's deadline). */
  deadline?: number;
  stats?: ConnectionStats;
  /** Overrides the configured database (scripts and tests). */
  db?: DatabaseConfig;
}

export const newStats = (): ConnectionStats => ({ connectAttempts: 0, connectMs: 0, heldMs: 0 });

const DEFAULT_CONNECT_BUDGET_MS = 10_000;
const OUTAGE_RETRY_MAX_MS = 250;

/** SQLSTATEs and errnos that mean "not now" rather than "never": the connect is retried. */
const RETRYABLE_CONNECT = new Set([
  '53300', // too_many_connections (also the per-role CONNECTION LIMIT)
  '57P03', // cannot_connect_now (starting up / shutting down)
  '08001',
  '08004',
  '08006',
  '57P01', // admin_shutdown
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
]);

/** SQLSTATE (server errors) or errno code (socket errors) of an error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * A pooler between us and PostgreSQL has no server connection for us now. PgBouncer says so with
 * SQLSTATE 08P01 and the text (max_client_conn / max_db_connections full, or query_wait_timeout
 * after waiting in its queue); RDS Proxy documents only the texts (borrow timeout, client
 * connection and rate limits, IAM authentication throttled). The same "not now" as 53300.
 */
const POOLER_BUSY =
  /no more connections allowed|query_wait_timeout|timed-out waiting to acquire database connection|maximum number of client connections to the proxy exceeded|rate of connection to proxy exceeded|too many competing requests/i;

export function isPoolerBusy(err: unknown): boolean {
  return err instanceof Error && POOLER_BUSY.test(err.message);
}

/** The server is up but has no slot for us now (or is too busy to tell us in time). */
function isContention(err: unknown): boolean {
  return errorCode(err) === '53300' || isPoolerBusy(err) || (err instanceof Error && /timeout expired/i.test(err.message));
}

export function isRetryableConnectError(err: unknown): boolean {
  if (isPoolerBusy(err)) return true;
  const code = errorCode(err);
  if (code) return RETRYABLE_CONNECT.has(code);
  // pg reports its own connect timeout and an early hang-up without a code.
  const message = err instanceof Error ? err.message : '';
  return /timeout expired|Connection terminated/i.test(message);
}

// DB_SSL_CA replaces Node's roots (a private CA); deployed stages instead add the RDS CA bundle
// to them with NODE_EXTRA_CA_CERTS (docs/deploy.md). Parse it once per container, not per connection.
let caCache: { file: string; context: SecureContext } | undefined;

function sslOptions(cfg: DatabaseConfig): pg.ClientConfig['ssl'] {
  if (cfg.ssl === 'disable') return false;
  if (cfg.ssl === 'require') return { rejectUnauthorized: false };
  if (cfg.sslCaFile && caCache?.file !== cfg.sslCaFile) {
    caCache = { file: cfg.sslCaFile, context: createSecureContext({ ca: readFileSync(cfg.sslCaFile) }) };
  }
  // pg sets the SNI servername itself (and leaves it unset for IP addresses, as RFC 6066 wants).
  return { rejectUnauthorized: true, ...(cfg.sslCaFile ? { secureContext: caCache?.context } : {}) };
}

function clientConfig(cfg: DatabaseConfig, connectTimeoutMs: number): pg.ClientConfig {
  return {
    host: cfg.host,
    port: cfg.port,
    database: cfg.database,
    user: cfg.user,
    password: cfg.auth === 'iam' ? () => iamAuthToken(cfg) : cfg.password,
    ssl: sslOptions(cfg),
    connectionTimeoutMillis: connectTimeoutMs,
    application_name: cfg.applicationName,
  };
}

async function closeClient(client: pg.Client): Promise<void> {
  // end() force-closes the socket when a query is still active; the timer only guards a dead peer.
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    client.end().catch(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
        resolve();
      }, 1_000);
    }),
  ]);
  clearTimeout(timer);
}

/**
 * Asks the server to cancel the backend's running query (the protocol's CancelRequest, on a
 * separate short-lived socket). Best effort: the closed client socket and the role's
 * client_connection_check_interval end the backend anyway.
 */
function sendCancel(cfg: DatabaseConfig, client: pg.Client): void {
  const { processID, secretKey } = client as unknown as { processID: number | null; secretKey: number | null };
  if (processID === null || secretKey === null) return;
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80877102, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  const socket = tcpConnect({ host: cfg.host, port: cfg.port }, () => socket.end(message));
  socket.setTimeout(1_000, () => socket.destroy());
  socket.on('error', () => socket.destroy());
}

function onAbort(signal: AbortSignal | undefined, action: () => void): () => void {
  if (!signal) return () => {};
  if (signal.aborted) {
    action();
    return () => {};
  }
  signal.addEventListener('abort', action, { once: true });
  return () => signal.removeEventListener('abort', action);
}

/** This container's learned view of contention (module state lives as long as the container). */
const backoff = new ConnectBackoff();

const sleepUnlessAborted = (ms: number, signal: AbortSignal | undefined) =>
  sleep(ms, undefined, signal ? { signal } : undefined).catch(() => undefined);

async function connect(
  cfg: DatabaseConfig,
  opts: ConnectionOptions & { deadline: number },
  stats: ConnectionStats,
): Promise<{ client: pg.Client; attemptStarted: number }> {
  const started = performance.now();
  const startedAt = Date.now();
  const { deadline } = opts;
  const settings = { baseMs: cfg.retryBaseMs, maxMs: cfg.retryMaxMs };
  const waits = backoff.start(settings);
  const first = Math.min(waits.firstDelay(), Math.max(0, deadline - Date.now() - 50));
  if (first > 0) await sleepUnlessAborted(first, opts.signal);
  let outageRetries = 0;
  for (;;) {
    if (opts.signal?.aborted) throw new RequestTimeout({ cause: opts.signal.reason });
    const timeLeft = deadline - Date.now();
    if (timeLeft <= 0) throw new DatabaseUnavailable({ cause: new Error('connect deadline passed') });
    const client = new pg.Client(clientConfig(cfg, Math.max(50, Math.min(cfg.connectTimeoutMs, timeLeft))));
    // A backend killed while we hold the client emits 'error'; the pending query rejects anyway.
    client.on('error', () => {});
    stats.connectAttempts++;
    const attemptStarted = performance.now();
    const forget = onAbort(opts.signal, () => void closeClient(client));
    try {
      await client.connect();
      stats.connectMs += performance.now() - started;
      return { client, attemptStarted };
    } catch (err) {
      await closeClient(client);
      if (opts.signal?.aborted) throw new RequestTimeout({ cause: err });
      if (!isRetryableConnectError(err)) throw new DatabaseUnavailable({ cause: err });
      const timeLeft = deadline - Date.now();
      if (timeLeft < 20) {
        stats.connectMs += performance.now() - started;
        throw new DatabaseUnavailable({ cause: err });
      }
      // A full server (53300) or one too busy starting backends to answer in time teaches this
      // container the contention; an unreachable or restarting server just gets short
      // jittered retries. Either way one last attempt still fits before the deadline.
      const delay =
        isContention(err)
          ? waits.refused(
              (Date.now() - startedAt) / Math.max(1, deadline - startedAt),
              performance.now() - attemptStarted,
              timeLeft,
            )
          : Math.round(Math.min(OUTAGE_RETRY_MAX_MS, cfg.retryBaseMs * 2 ** ++outageRetries) * (0.5 + Math.random()));
      await sleepUnlessAborted(Math.min(delay, timeLeft - 10), opts.signal);
    } finally {
      forget();
    }
  }
}

/** Server errors that mean the connection, not the request, failed. */
function translateQueryError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return new RequestTimeout({ cause: err });
  const code = errorCode(err);
  if (code === '57014') return new RequestTimeout({ cause: err }); // statement_timeout / cancel
  if (isPoolerBusy(err)) return new DatabaseUnavailable({ cause: err });
  if (code === '25P03' || code === '57P01' || code === '57P02' || code?.startsWith('08')) {
    return new DatabaseUnavailable({ cause: err });
  }
  if (!code && err instanceof Error && /Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(err.message)) {
    return new DatabaseUnavailable({ cause: err });
  }
  return err;
}

/**
 * The connection died before this query was sent: nothing reached the server. (A pooler's
 * query_wait_timeout also means nothing ran, but the request already waited out the pooler's
 * queue: it gets its 503 rather than a second wait past its deadline.)
 */
const neverSent = (err: unknown) => err instanceof Error && /not queryable/i.test(err.message);

/**
 * Opens one connection, runs `fn`, and closes the connection whatever happens.
 * Retries the connect; runs `fn` again only when its connection died before its first query
 * was sent (nothing reached the server). A query that may have run is never retried: a write
 * may already have committed.
 */
export async function withConnection<T>(fn: (db: Db) => Promise<T>, opts: ConnectionOptions = {}): Promise<T> {
  const stats = opts.stats ?? newStats();
  const cfg = opts.db ?? getConfig().db;
  const deadline = opts.deadline ?? Date.now() + DEFAULT_CONNECT_BUDGET_MS;
  for (;;) {
    const { client, attemptStarted } = await connect(cfg, { ...opts, deadline }, stats);
    const held = performance.now();
    const forget = onAbort(opts.signal, () => {
      sendCancel(cfg, client);
      void closeClient(client);
    });
    let queries = 0;
    const db: Db = {
      query: (text, values) => {
        queries++;
        return client.query(text, values as unknown[]) as never;
      },
    };
    try {
      return await fn(db);
    } catch (err) {
      const retry = queries === 1 && neverSent(err) && !opts.signal?.aborted && Date.now() < deadline;
      if (!retry) throw translateQueryError(err, opts.signal);
    } finally {
      forget();
      await closeClient(client);
      const now = performance.now();
      stats.heldMs += now - held;
      backoff.succeeded(now - attemptStarted, { baseMs: cfg.retryBaseMs, maxMs: cfg.retryMaxMs });
    }
  }
}

/** Like withConnection, inside BEGIN/COMMIT; any error rolls back (or the closed connection does). */
export function withTransaction<T>(fn: (db: Db) => Promise<T>, opts: ConnectionOptions = {}): Promise<T> {
  return withConnection(async (db) => {
    await db.query('BEGIN');
    try {
      const result = await fn(db);
      await db.query('COMMIT');
      return result;
    } catch (err) {
      // Best effort: if the connection is gone the server has already rolled back.
      await db.query('ROLLBACK').catch(() => undefined);
      throw err;
    }
  }, opts);
}
