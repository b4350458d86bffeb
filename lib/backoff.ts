// How long to wait before (re)trying a connect that the server refused as "not now".
//
// A refused connect is not free: PostgreSQL's postmaster forks a backend, which authenticates
// before it checks the role's CONNECTION LIMIT, so every refusal costs the server about as much
// as a successful connect, and the forks queue behind each other. Plain exponential backoff
// that restarts from a tiny base on every request floods a full server with refusals. This
// backoff keeps, per container (module state survives between warm invocations), a learned
// retry interval:
//   - within a request the interval doubles on each refusal, starting from what the container
//     learned, never below about one measured connection hold time, and never below the time
//     the refused attempt itself took (a slow refusal means the server is busy forking for
//     other refused clients);
//   - the container remembers the largest interval its requests needed and relaxes it (x0.7)
//     on every success, so warm containers start near the right pace instead of from zero;
//   - once a container has seen contention, even a request's first attempt waits a random part
//     of the learned interval, so warm containers do not stampede a freed slot;
//   - older requests retry sooner (aging), which keeps waiting fair and the tail inside the
//     deadline; full jitter spreads containers apart; the caller bounds every wait.
// Concurrent requests in one module (tests, serverless-offline --useInProcess) do not compound
// each other's increases: each request doubles its own interval.

export interface BackoffSettings {
  /** Floor of the learned interval (ms). */
  baseMs: number;
  /** Ceiling of the learned interval (ms). */
  maxMs: number;
}

const INCREASE = 2;
const DECREASE = 0.7;
const HOLD_SMOOTHING = 0.2;
const AGING = 0.8;

export class ConnectBackoff {
  /** Learned interval between attempts while the server is full; 0 = no contention seen. */
  learnedMs = 0;
  /** Smoothed time one request keeps a slot (connect + SQL + close). */
  holdMs = 20;

  constructor(private readonly random = Math.random) {}

  /** Starts one request's sequence of attempts. */
  start(settings: BackoffSettings): RequestBackoff {
    return new RequestBackoff(this, settings, this.random);
  }

  /** Called once a request got its connection and is done with it. */
  succeeded(heldMs: number, { baseMs }: BackoffSettings): void {
    this.holdMs += HOLD_SMOOTHING * (heldMs - this.holdMs);
    if (this.learnedMs === 0) return;
    this.learnedMs *= DECREASE;
    if (this.learnedMs < baseMs) this.learnedMs = 0;
  }
}

export class RequestBackoff {
  private intervalMs: number;

  constructor(
    private readonly container: ConnectBackoff,
    private readonly settings: BackoffSettings,
    private readonly random: () => number,
  ) {
    this.intervalMs = container.learnedMs;
  }

  /** Wait before the first attempt: none until the container has seen contention. */
  firstDelay(): number {
    const learned = this.container.learnedMs;
    return learned > 0 ? Math.round(learned * (0.25 + 0.75 * this.random())) : 0;
  }

  /**
   * Called after a refusal; returns the wait before the next attempt. `age` (0..1) is the part
   * of its deadline the request has already spent; `attemptMs` how long the refusal took.
   */
  refused(age = 0, attemptMs = 0): number {
    const { baseMs, maxMs } = this.settings;
    const grown = this.intervalMs > 0 ? this.intervalMs * INCREASE : this.container.holdMs;
    this.intervalMs = Math.min(maxMs, Math.max(baseMs, grown, this.container.holdMs / 2, attemptMs));
    this.container.learnedMs = Math.max(this.container.learnedMs, this.intervalMs);
    const priority = 1 - AGING * Math.min(1, Math.max(0, age));
    return Math.max(1, Math.round(this.intervalMs * (0.5 + this.random()) * priority));
  }
}
