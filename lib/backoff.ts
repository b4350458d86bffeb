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
//   - older requests retry sooner (aging), which keeps waiting fair and the tail inside the
//     deadline; full jitter spreads containers apart; the caller bounds every wait.

export interface BackoffSettings {
  /** Floor of the learned interval (ms). */
  baseMs: number;
  /** Ceiling of the learned interval (ms). */
  maxMs: number;
}

const INCREASE = 2;
const DECREASE = 0.7;
const HOLD_SMOOTHING = 0.2;
/** A fresh request waits twice the learned interval; the wait shrinks with the square of its age. */
const AGING = 2;
const MIN_PRIORITY = 0.05;
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

  /** Starts one request's sequence of attempts. */
  start(settings: BackoffSettings): RequestBackoff {
    return new RequestBackoff(this, settings, this.random);
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

export class RequestBackoff {
  constructor(
    private readonly container: ConnectBackoff,
    private readonly settings: BackoffSettings,
    private readonly random: () => number,
  ) {}

  /** Wait before the first attempt: none until the container has seen contention. */
  firstDelay(): number {
    const learned = this.container.learnedMs;
    return learned > 0 ? Math.round(learned * (0.25 + 0.75 * this.random())) : 0;
  }

  /**
   * Called after a refusal; returns the wait before the next attempt. `age` (0..1) is the part
   * of its deadline the request has already spent, `remainingMs` what is left of it, and
   * `attemptMs` how long the refusal took. The wait does not grow with the request's own
   * refusals (that would make waiting LIFO): it follows the container's learned interval,
   * shrinks as the request ages, and near the deadline becomes a small part of the time left,
   * so the oldest requests try most often and win most freed slots.
   */
  refused(age = 0, attemptMs = 0, remainingMs = Infinity): number {
    this.container.grow(this.settings, attemptMs);
    const young = 1 - Math.min(1, Math.max(0, age));
    const priority = Math.max(MIN_PRIORITY, AGING * young * young);
    const interval = Math.min(this.container.learnedMs * priority, this.settings.maxMs, remainingMs / URGENCY);
    return Math.max(1, Math.round(interval * (0.5 + this.random())));
  }
}
