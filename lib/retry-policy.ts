// When the connection layer tries again, how long it waits first, and when it gives up.
// Plain values in (the error, epoch-ms clock readings, the deadline), a wait or a reason out: no
// sockets, no timers, no pg. The container's learned state also reads a monotonic clock and
// Math.random, both injectable (the tests drive them). lib/db.ts connects, sleeps and throws;
// everything it decides comes from here.

/** SQLSTATE (server errors) or errno code (socket errors) of an error, if any. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

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

/**
 * A pooler between us and PostgreSQL has no server connection for us now. PgBouncer says so with
 * SQLSTATE 08P01 and the text (max_client_conn / max_db_connections full, or query_wait_timeout
 * after waiting in its queue); RDS Proxy documents only the texts (borrow timeout, client
 * connection and rate limits, IAM authentication throttled). The same "not now" as 53300.
 */
const POOLER_BUSY =
  /no more connections allowed|query_wait_timeout|timed-out waiting to acquire database connection|maximum number of client connections to the proxy exceeded|rate of connection to proxy exceeded|too many competing requests/i;

const isPoolerBusy = (err: unknown) => err instanceof Error && POOLER_BUSY.test(err.message);

/** pg reports its own connect timeout without a code. */
const isConnectTimeout = (err: unknown) => err instanceof Error && /timeout expired/i.test(err.message);

function isRetryableConnectError(err: unknown): boolean {
  if (isPoolerBusy(err)) return true;
  const code = errorCode(err);
  if (code) return RETRYABLE_CONNECT.has(code);
  // An early hang-up carries no code either.
  return isConnectTimeout(err) || (err instanceof Error && /Connection terminated/i.test(err.message));
}

/** The server is up but has no slot for us now (or is too busy to tell us in time). */
const isContention = (err: unknown) => errorCode(err) === '53300' || isPoolerBusy(err) || isConnectTimeout(err);

/** errno codes of a socket that failed under a query (reset, broken pipe, timed out, unreachable). */
const SOCKET_ERRNOS = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ECONNABORTED', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN']);

/**
 * What a failed query says: 'timeout' (statement_timeout or a cancel), 'unavailable' (the
 * connection failed, not the request), or undefined (the request's own error, e.g. a constraint).
 */
export function queryFailure(err: unknown): 'timeout' | 'unavailable' | undefined {
  const code = errorCode(err);
  if (code === '57014') return 'timeout'; // query_canceled
  if (isPoolerBusy(err)) return 'unavailable';
  // idle_in_transaction_session_timeout, admin_shutdown, crash_shutdown, connection exceptions
  if (code === '25P03' || code === '57P01' || code === '57P02' || code?.startsWith('08')) return 'unavailable';
  // pg passes a socket's own error through with its errno as `code`: the connection failed, and
  // a write may have committed before it did, so the caller's lost-commit check must run.
  if (code && SOCKET_ERRNOS.has(code)) return 'unavailable';
  if (!code && err instanceof Error && /Connection terminated|not queryable|ECONNRESET|EPIPE/i.test(err.message)) {
    return 'unavailable';
  }
  return undefined;
}

/**
 * Whether the work may run again on a new connection after `err`: only when its connection died
 * before its first query was sent (`queries` it issued: 1), so nothing reached the server. A query
 * that may have run is never retried: a write may already have committed. (A pooler's
 * query_wait_timeout also means nothing ran, but the request already waited out the pooler's
 * queue: it gets its 503 rather than a second wait past its deadline.)
 */
export function mayRunAgain(err: unknown, queries: number, now: number, deadline: number): boolean {
  return queries === 1 && err instanceof Error && /not queryable/i.test(err.message) && now < deadline;
}

/** Connects are retried this long when the caller has no deadline of its own (scripts, tests). */
export const DEFAULT_CONNECT_BUDGET_MS = 10_000;
/** An unreachable or restarting server has no queue to respect: it is polled at least 4 times a second. */
const OUTAGE_RETRY_MAX_MS = 250;
/** The shortest connect attempt worth making (a TCP, TLS and authentication round trip). */
const MIN_ATTEMPT_MS = 50;
/** A wait ends this long before the deadline, so that a late timer cannot skip the last attempt. */
const LAST_ATTEMPT_MARGIN_MS = 10;
/** With less left than this, a wait and that margin no longer fit before the deadline: give up. */
const MIN_RETRY_WINDOW_MS = 20;

// How long to wait before (re)trying a connect that the server refused as "not now".
//
// A refused connect is not free: PostgreSQL's postmaster forks a backend, which authenticates
// before it checks the role's CONNECTION LIMIT, so every refusal costs the server about as much
// as a successful connect, and the forks queue behind each other. Plain exponential backoff
// that restarts from a tiny base on every request floods a full server with refusals. This
// backoff keeps, per container (module state survives between warm invocations), a learned
// retry interval:
//   - the interval doubles on each refusal (at most once per interval, so concurrent requests
//     in one module do not compound), starting from about one measured connection hold time,
//     and never below the time the refused attempt itself took (a slow refusal means the
//     server is busy forking for other refused clients); it relaxes (x0.7) on every success:
//     it settles where about one attempt in three is refused (2^p = 0.7^-(1-p), p ~ 1/3);
//   - warm containers keep it between invocations, so they start near the right pace;
//   - once a container has seen contention, even a request's first attempt waits a random part
//     of the learned interval, so warm containers do not stampede a freed slot;
//   - older requests retry sooner (aging), which keeps waiting fair and the tail short. Age is
//     counted in hold times (AGE_UNIT_HOLDS of them), the one measure all containers share: a
//     container whose request has been refused a few times has a long learned interval, and
//     the container that just freed a slot has seen no contention at all, so only a request's
//     own age can put it ahead of both. (Counted against the ~27 s deadline, the age hardly
//     moved in a request's first seconds: at 64 clients most requests got in within ~100 ms
//     while the refused few waited 7-8 s, p99 11-13 x the mean.) The oldest waiters try most
//     often and so win most freed slots;
//   - a refusal's own duration spaces the next attempt (REFUSAL_SPACING times it): a server busy
//     forking for refused clients answers slowly, and every waiter then tries less often, so
//     fair aging does not add the refusals that would take the server's CPU from the requests
//     it serves; full jitter spreads containers apart; the deadline bounds every wait.
// tests/unit/retry-fairness.test.ts runs 64 such containers against a model of a 2-connection
// server; docs/capacity.md ("Fair waiting") has how the constants were chosen and measured.

export interface BackoffSettings {
  /** Floor of the learned interval and base of the outage backoff (ms). */
  baseMs: number;
  /** Ceiling of the learned interval (ms). */
  maxMs: number;
}

/** After a failed connect: wait this long and try again, or give up (the caller answers 503). */
export type Decision = { wait: number } | { giveUp: 'not retryable' | 'deadline' };

const INCREASE = 2;
const DECREASE = 0.7;
const HOLD_SMOOTHING = 0.2;
/**
 * A fresh request waits twice the learned interval; one that has waited a ages (AGE_UNIT_HOLDS
 * hold times each) AGING / (1 + a)^2 times it, at least MIN_PRIORITY times it.
 */
const AGING = 2;
const AGE_UNIT_HOLDS = 20;
const MIN_PRIORITY = 0.05;
/** A wait after a refusal lasts at least this many times the refused attempt took. */
const REFUSAL_SPACING = 30;
/** Near the deadline, try at least this many more times in the time left. */
const URGENCY = 6;

export class ConnectBackoff {
  /** Learned interval between attempts while the server is full; 0 = no contention seen. */
  learnedMs = 0;
  /** Smoothed time one request keeps a slot (connect + SQL + close). */
  holdMs = 20;
  private lastIncrease = -Infinity;

  constructor(
    private readonly random = Math.random,
    private readonly now = () => performance.now(),
  ) {}

  /** Starts one request's attempts; `startedAt` and `deadline` are epoch ms. */
  start(settings: BackoffSettings, startedAt: number, deadline: number): ConnectAttempts {
    return new ConnectAttempts(this, settings, startedAt, deadline, this.random);
  }

  /** Doubles the learned interval, at most once per interval (concurrent refusals count once). */
  grow({ baseMs, maxMs }: BackoffSettings, attemptMs: number): void {
    const now = this.now();
    if (this.learnedMs > 0 && now - this.lastIncrease < this.learnedMs / 2) return;
    this.lastIncrease = now;
    const grown = this.learnedMs > 0 ? this.learnedMs * INCREASE : this.holdMs;
    this.learnedMs = Math.min(maxMs, Math.max(baseMs, grown, this.holdMs / 2, attemptMs));
  }

  /** Called once a request got its connection and is done with it. */
  succeeded(heldMs: number, { baseMs }: BackoffSettings): void {
    this.holdMs += HOLD_SMOOTHING * (heldMs - this.holdMs);
    if (this.learnedMs === 0) return;
    this.learnedMs *= DECREASE;
    if (this.learnedMs < baseMs) this.learnedMs = 0;
  }
}

/** One request's connect attempts, from its start to its deadline (epoch ms). */
export class ConnectAttempts {
  private outages = 0;

  constructor(
    private readonly container: ConnectBackoff,
    private readonly settings: BackoffSettings,
    private readonly startedAt: number,
    private readonly deadline: number,
    private readonly random: () => number,
  ) {}

  /** Wait before the first attempt: none until the container has seen contention. */
  firstDelay(now: number): number {
    const learned = this.container.learnedMs;
    const wait = learned > 0 ? Math.round(learned * (0.25 + 0.75 * this.random())) : 0;
    return Math.min(wait, Math.max(0, this.deadline - now - MIN_ATTEMPT_MS));
  }

  /** How long the next attempt may take, or undefined once the deadline has passed. */
  attemptTimeout(now: number, configuredMs: number): number | undefined {
    const timeLeft = this.deadline - now;
    return timeLeft > 0 ? Math.max(MIN_ATTEMPT_MS, Math.min(configuredMs, timeLeft)) : undefined;
  }

  /** After a failed attempt that took `attemptMs`: the wait before the next one, or why there is none. */
  failed(err: unknown, now: number, attemptMs: number): Decision {
    if (!isRetryableConnectError(err)) return { giveUp: 'not retryable' };
    const timeLeft = this.deadline - now;
    if (timeLeft < MIN_RETRY_WINDOW_MS) return { giveUp: 'deadline' };
    // A full server (53300) or one too busy starting backends to answer in time teaches the
    // container the contention; an unreachable or restarting server just gets short jittered
    // retries. Either way one last attempt still fits before the deadline.
    const age = Math.max(0, now - this.startedAt) / (AGE_UNIT_HOLDS * this.container.holdMs);
    const wait = isContention(err) ? this.refused(age, attemptMs, timeLeft) : this.outage();
    return { wait: Math.min(wait, timeLeft - LAST_ATTEMPT_MARGIN_MS) };
  }

  /**
   * The wait after a refusal. `age` is how long the request has waited, in units of
   * AGE_UNIT_HOLDS hold times, `remainingMs` what is left of its deadline, and `attemptMs` how
   * long the refusal took. The wait follows the container's learned interval, shrinks with the
   * square of the request's age, never comes sooner than REFUSAL_SPACING refusals' time, and
   * near the deadline becomes a small part of the time left: the oldest requests try most often
   * and win most freed slots.
   */
  private refused(age: number, attemptMs: number, remainingMs: number): number {
    this.container.grow(this.settings, attemptMs);
    const priority = Math.max(MIN_PRIORITY, AGING / (1 + age) ** 2);
    const spaced = Math.max(this.container.learnedMs * priority, REFUSAL_SPACING * attemptMs);
    const interval = Math.min(spaced, this.settings.maxMs, remainingMs / URGENCY);
    return Math.max(1, Math.round(interval * (0.5 + this.random())));
  }

  /** The wait after the request's n-th "not there": base x 2^n, capped, with jitter. */
  private outage(): number {
    const wait = Math.min(OUTAGE_RETRY_MAX_MS, this.settings.baseMs * 2 ** ++this.outages);
    return Math.round(wait * (0.5 + this.random()));
  }
}
