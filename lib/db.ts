import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { connect as tcpConnect } from 'node:net';
import { createSecureContext, type SecureContext } from 'node:tls';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import pgCrypto from 'pg/lib/crypto/utils.js';
import { getConfig, type DatabaseConfig } from './config.js';
import { DatabaseUnavailable, RequestTimeout } from './errors.js';
import { iamAuthToken } from './iam-token.js';
import { ConnectBackoff, DEFAULT_CONNECT_BUDGET_MS, mayRunAgain, queryFailure, type BackoffSettings } from './retry-policy.js';

// The one door to the database. Every call opens exactly one pg.Client and closes it in
// `finally`; there is no pool and nothing survives the returned promise.
// Proxy-safe by construction: no SET, no named statements, no startup `options`.
// When to retry, wait or give up is lib/retry-policy.ts's call; this file only acts on it.

/** Data-access functions translate SQLSTATEs (23505 → a conflict) through the one door. */
export { errorCode } from './retry-policy.js';

/** What data-access functions get: text + positional parameters only (no named statements). */
export interface Db {
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: readonly unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
  /** The connection is a pooler's (DB_POOLED): its backend outlives the request (lib/kept.ts). */
  readonly pooled?: boolean;
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

// pg's SCRAM client (password auth: PgBouncer, the local stack, a password deploy) derives the
// salted password on every connect, refused attempts too: PBKDF2, 4,096 rounds of HMAC-SHA-256,
// 1.1 ms of CPU on the 2 x EPYC machine (docs/capacity.md, "The Node side of a request"). It
// depends only on the password, the role's salt and the rounds, fixed until the password
// changes, so the container derives it once per verifier (the derived key opens no more than
// the password the container already holds). IAM tokens go as cleartext passwords over TLS and
// never get here. pg calls its helper through its module object, where this wraps it;
// tests/integration/db.test.ts checks that the wrap is what pg calls.
const derivedKeys = new Map<string, Promise<ArrayBuffer>>();
const deriveKey = pgCrypto.deriveKey;
let derivations = 0;
pgCrypto.deriveKey = (password, salt, iterations) => {
  const id = createHash('sha256').update(`${iterations}\0`).update(salt).update('\0').update(password).digest('base64');
  let key = derivedKeys.get(id);
  if (!key) {
    if (derivedKeys.size >= 8) derivedKeys.clear();
    derivations++;
    key = deriveKey(password, salt, iterations);
    derivedKeys.set(id, key);
    key.catch(() => derivedKeys.delete(id));
  }
  return key;
};

/** How many SCRAM keys this container has derived (the tests' check that the cache is used). */
export const scramDerivations = (): number => derivations;

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

/** Where a StartupMessage has its protocol version, a CancelRequest has 1234 << 16 | 5678. */
const CANCEL_REQUEST_CODE = 80877102;

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
  message.writeInt32BE(CANCEL_REQUEST_CODE, 4);
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

const backoffSettings = (cfg: DatabaseConfig): BackoffSettings => ({ baseMs: cfg.retryBaseMs, maxMs: cfg.retryMaxMs });

const sleepUnlessAborted = (ms: number, signal: AbortSignal | undefined) =>
  sleep(ms, undefined, signal ? { signal } : undefined).catch(() => undefined);

async function connect(
  cfg: DatabaseConfig,
  opts: ConnectionOptions & { deadline: number },
  stats: ConnectionStats,
): Promise<{ client: pg.Client; attemptStarted: number }> {
  const started = performance.now();
  const attempts = backoff.start(backoffSettings(cfg), Date.now(), opts.deadline);
  const first = attempts.firstDelay(Date.now());
  if (first > 0) await sleepUnlessAborted(first, opts.signal);
  for (;;) {
    if (opts.signal?.aborted) throw new RequestTimeout({ cause: opts.signal.reason });
    const timeoutMs = attempts.attemptTimeout(Date.now(), cfg.connectTimeoutMs);
    if (timeoutMs === undefined) throw new DatabaseUnavailable({ cause: new Error('connect deadline passed') });
    const client = new pg.Client(clientConfig(cfg, timeoutMs));
    // A backend killed while we hold the client emits 'error'; the pending query rejects anyway.
    client.on('error', () => {});
    stats.connectAttempts++;
    const attemptStarted = performance.now();
    // pg's end() during the TCP/TLS handshake closes the socket but never settles connect()
    // (it treats the hang-up as asked for): the abort itself rejects the attempt.
    let forget = () => {};
    const aborted = new Promise<never>((_, reject) => {
      forget = onAbort(opts.signal, () => {
        void closeClient(client);
        reject(new RequestTimeout({ cause: opts.signal?.reason }));
      });
    });
    const connecting = client.connect();
    connecting.catch(() => undefined);
    aborted.catch(() => undefined);
    try {
      await Promise.race([connecting, aborted]);
      stats.connectMs += performance.now() - started;
      return { client, attemptStarted };
    } catch (err) {
      // Aborted: the abort handler is already closing the client; do not wait for it.
      if (opts.signal?.aborted) throw err instanceof RequestTimeout ? err : new RequestTimeout({ cause: err });
      await closeClient(client);
      const next = attempts.failed(err, Date.now(), performance.now() - attemptStarted);
      if ('giveUp' in next) {
        if (next.giveUp === 'deadline') stats.connectMs += performance.now() - started;
        throw new DatabaseUnavailable({ cause: err });
      }
      await sleepUnlessAborted(next.wait, opts.signal);
    } finally {
      forget();
    }
  }
}

/** What the caller gets for a failed query: the policy's verdict as a 504 or 503, else the error itself. */
function translateQueryError(err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return new RequestTimeout({ cause: err });
  const failure = queryFailure(err);
  if (failure === 'timeout') return new RequestTimeout({ cause: err });
  if (failure === 'unavailable') return new DatabaseUnavailable({ cause: err });
  return err;
}

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
      pooled: cfg.pooled,
      query: (text, values) => {
        queries++;
        return client.query(text, values as unknown[]) as never;
      },
    };
    try {
      return await fn(db);
    } catch (err) {
      if (opts.signal?.aborted || !mayRunAgain(err, queries, Date.now(), deadline)) throw translateQueryError(err, opts.signal);
    } finally {
      forget();
      await closeClient(client);
      const now = performance.now();
      stats.heldMs += now - held;
      backoff.succeeded(now - attemptStarted, backoffSettings(cfg));
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
