// How long to wait before (re)trying a connect that the server refused as "not now".
//
// A refused connect is not free: PostgreSQL forks a backend and authenticates before it checks
// the role's CONNECTION LIMIT, so every refusal costs the server about as much CPU as a
// successful connect. Plain exponential backoff that restarts from a tiny base on every request
// floods a full server with refusals (measured: ~0.4x of the raw limit at 64 clients, see
// README). This backoff instead keeps, per container (module state survives between warm
// invocations), a learned retry interval:
//   - multiplicative increase (x2) on each refusal and decrease (x0.7) on each success: the
//     interval settles where about one attempt in three is refused (2^p = 0.7^-(1-p) at
//     p ~ 1/3), enough attempts to keep freed slots busy, few enough to keep refusals cheap;
//   - the interval never drops below about one measured connection hold time;
//   - once a container has seen contention, even its first attempt waits a random part of the
//     interval, so a burst of warm containers does not stampede a freed slot;
//   - full jitter spreads containers apart; the caller bounds every wait by the deadline.

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
  intervalMs = 0;
  /** Smoothed time one request keeps a slot (connect + SQL + close). */
  holdMs = 20;

  constructor(private readonly random = Math.random) {}

  /**
   * Wait before a request's first attempt: none until contention has been seen; then a full
   * interval, so a newcomer queues behind requests that are already waiting (and aging).
   */
  firstDelay(): number {
    return this.intervalMs > 0 ? Math.round(this.intervalMs * (0.25 + 0.75 * this.random())) : 0;
  }

  /**
   * Called after a refusal; returns the wait before the next attempt. `age` (0..1) is how much
   * of its deadline the request has already spent waiting: older requests retry sooner, so
   * waiting is fair and the tail stays inside the deadline.
   */
  refused({ baseMs, maxMs }: BackoffSettings, age = 0, attemptMs = 0): number {
    // A refusal that took long to arrive means the server is busy starting backends for
    // other refused clients: back off at least that long again.
    const grown = this.intervalMs > 0 ? this.intervalMs * INCREASE : this.holdMs;
    this.intervalMs = Math.min(maxMs, Math.max(baseMs, grown, this.holdMs / 2, attemptMs * INCREASE));
    const priority = 1 - AGING * Math.min(1, Math.max(0, age));
    return Math.max(1, Math.round(this.intervalMs * (0.5 + this.random()) * priority));
  }

  /** Called once connected and done, with how long the slot was held. */
  succeeded(heldMs: number, { baseMs }: BackoffSettings): void {
    this.holdMs += HOLD_SMOOTHING * (heldMs - this.holdMs);
    if (this.intervalMs === 0) return;
    this.intervalMs *= DECREASE;
    if (this.intervalMs < baseMs) this.intervalMs = 0;
  }
}
