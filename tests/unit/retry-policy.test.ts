import { describe, expect, it } from 'vitest';
import { ConnectBackoff, errorCode, mayRunAgain, queryFailure } from '../../lib/retry-policy.js';

// The policy alone, with plain errors, a fixed random draw and clocks the tests move; the
// connection loop that follows it is covered against real PostgreSQL in tests/integration/db.test.ts.

const settings = { baseMs: 10, maxMs: 4_000 };
const fixed = (value: number) => () => value;
/** Far enough that neither the deadline nor the share of it left bounds a wait. */
const FAR = 1_000_000;

const withCode = (code: string, message = `failed with ${code}`) => Object.assign(new Error(message), { code });
const full = withCode('53300', 'sorry, too many clients already');
const down = withCode('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432');

/** A container's backoff with a fixed random draw and a clock the test moves. */
function make(random = 0.5) {
  let now = 0;
  const backoff = new ConnectBackoff(fixed(random), () => now);
  return { backoff, advance: (ms: number) => (now += ms) };
}

/** The wait a decision asks for; fails the test when it gives up instead. */
function wait(decision: { wait: number } | { giveUp: string }): number {
  if (!('wait' in decision)) throw new Error(`gave up: ${decision.giveUp}`);
  return decision.wait;
}

describe('which failed connects are retried', () => {
  const decide = (err: unknown) => make().backoff.start(settings, 0, FAR).failed(err, 0, 0);

  it.each([
    ['53300', 'too_many_connections'],
    ['57P03', 'cannot_connect_now'],
    ['57P01', 'admin_shutdown'],
    ['08001', 'sqlclient_unable_to_establish_sqlconnection'],
    ['08006', 'connection_failure'],
    ['ECONNREFUSED', 'connection refused'],
    ['ECONNRESET', 'connection reset'],
    ['ETIMEDOUT', 'socket timeout'],
  ])('retries %s (%s)', (code) => {
    expect(decide(withCode(code))).toHaveProperty('wait');
  });

  it.each([
    ['28P01', 'invalid_password'],
    ['42P01', 'undefined_table'],
    ['3D000', 'invalid_catalog_name'],
    ['ENOTFOUND', 'unknown host'],
  ])('gives up at once on %s (%s)', (code) => {
    expect(decide(withCode(code))).toEqual({ giveUp: 'not retryable' });
  });

  it('retries pg’s own connect timeout and an early hang-up, which carry no code', () => {
    expect(decide(new Error('timeout expired'))).toHaveProperty('wait');
    expect(decide(new Error('Connection terminated unexpectedly'))).toHaveProperty('wait');
  });

  it('gives up on other errors and non-errors', () => {
    for (const err of [new Error('boom'), undefined, null, 'timeout expired']) {
      expect(decide(err)).toEqual({ giveUp: 'not retryable' });
    }
  });

  // PgBouncer 1.18's FATAL texts (SQLSTATE 08P01), as seen against a real PgBouncer; RDS Proxy's
  // texts from its troubleshooting guide (AWS documents no SQLSTATE for them).
  const poolerBusy = [
    ['PgBouncer max_client_conn', withCode('08P01', 'no more connections allowed (max_client_conn)')],
    ['PgBouncer max_db_connections', withCode('08P01', 'no more connections allowed (max_db_connections)')],
    ['PgBouncer query_wait_timeout', withCode('08P01', 'query_wait_timeout')],
    ['RDS Proxy borrow timeout', new Error('Timed-out waiting to acquire database connection.')],
    ['RDS Proxy client limit', new Error('The maximum number of client connections to the proxy exceeded 1000.')],
    ['RDS Proxy connection rate', new Error('Rate of connection to proxy exceeded 50.')],
    ['RDS Proxy IAM throttle', new Error('The IAM authentication failed because of too many competing requests.')],
  ] as const;

  it.each(poolerBusy)('retries a busy pooler (%s) as contention', (_, err) => {
    const { backoff } = make();
    expect(backoff.start(settings, 0, FAR).failed(err, 0, 0)).toHaveProperty('wait');
    expect(backoff.learnedMs).toBeGreaterThan(0);
  });

  it('leaves other 08P01 errors and bad credentials alone', () => {
    expect(decide(withCode('08P01', 'invalid message format'))).toEqual({ giveUp: 'not retryable' });
    expect(decide(new Error('The password that was provided for the role app is wrong.'))).toEqual({ giveUp: 'not retryable' });
  });
});

describe('the deadline', () => {
  it('gives up when less than 20 ms are left, and the last wait ends 10 ms before the deadline', () => {
    const { backoff } = make();
    expect(backoff.start(settings, 0, 1_000).failed(down, 981, 0)).toEqual({ giveUp: 'deadline' });
    expect(wait(backoff.start(settings, 0, 1_000).failed(down, 980, 0))).toBe(10);
  });

  it('checks what can be retried before the time left: a bad password is never a deadline problem', () => {
    expect(make().backoff.start(settings, 0, 1_000).failed(withCode('28P01'), 1_000, 0)).toEqual({ giveUp: 'not retryable' });
  });

  it('gives an attempt the configured connect timeout, less near the deadline, never under 50 ms, none past it', () => {
    const attempts = make().backoff.start(settings, 0, 10_000);
    expect(attempts.attemptTimeout(0, 3_000)).toBe(3_000);
    expect(attempts.attemptTimeout(9_000, 3_000)).toBe(1_000);
    expect(attempts.attemptTimeout(9_990, 3_000)).toBe(50);
    expect(attempts.attemptTimeout(10_000, 3_000)).toBeUndefined();
  });
});

describe('outage backoff (the server is not there)', () => {
  it('doubles from twice the base on each failure, capped at 250 ms', () => {
    const attempts = make().backoff.start(settings, 0, FAR);
    const waits = Array.from({ length: 7 }, () => wait(attempts.failed(down, 0, 0)));
    expect(waits).toEqual([20, 40, 80, 160, 250, 250, 250]);
  });

  it('jitters each wait between half and one and a half times', () => {
    expect(wait(make(0).backoff.start(settings, 0, FAR).failed(down, 0, 0))).toBe(10);
    expect(wait(make(1).backoff.start(settings, 0, FAR).failed(down, 0, 0))).toBe(30);
  });

  it('teaches the container nothing about contention', () => {
    const { backoff } = make();
    const attempts = backoff.start(settings, 0, FAR);
    for (const code of ['ECONNREFUSED', '57P03', '08006']) attempts.failed(withCode(code), 0, 0);
    expect(backoff.learnedMs).toBe(0);
    expect(backoff.start(settings, 0, FAR).firstDelay(0)).toBe(0);
  });

  it('starts over for each request', () => {
    const { backoff } = make();
    backoff.start(settings, 0, FAR).failed(down, 0, 0);
    expect(wait(backoff.start(settings, 0, FAR).failed(down, 0, 0))).toBe(20);
  });
});

describe('contention backoff (the server is full)', () => {
  it('lets the first attempt go at once until contention has been seen', () => {
    expect(make(0.9).backoff.start(settings, 0, FAR).firstDelay(0)).toBe(0);
  });

  it('learns an interval of about one measured hold time, doubled on each refusal; a fresh request waits two intervals', () => {
    const { backoff, advance } = make();
    backoff.succeeded(40, settings); // hold time moves towards 40 ms
    const hold = backoff.holdMs;
    const attempts = backoff.start(settings, 0, FAR);
    expect(wait(attempts.failed(full, 0, 0))).toBe(Math.round(hold * 2));
    expect(backoff.learnedMs).toBeCloseTo(hold);
    advance(1_000);
    attempts.failed(full, 0, 0);
    expect(backoff.learnedMs).toBeCloseTo(hold * 2);
    advance(1_000);
    attempts.failed(full, 0, 0);
    expect(backoff.learnedMs).toBeCloseTo(hold * 4);
  });

  it('counts a connect that timed out as contention (the server is too busy forking to answer)', () => {
    const { backoff } = make();
    backoff.start(settings, 0, FAR).failed(new Error('timeout expired'), 0, 3_000);
    expect(backoff.learnedMs).toBe(3_000);
  });

  it('learns at least as long an interval as a slow refusal took', () => {
    const { backoff } = make();
    backoff.start(settings, 0, FAR).failed(full, 0, 900);
    expect(backoff.learnedMs).toBe(900);
  });

  it('tries several more times in what is left of the deadline', () => {
    expect(wait(make().backoff.start(settings, 0, 600).failed(full, 0, 900))).toBe(100);
  });

  it('never waits longer than the ceiling, jitter included up to 1.5x', () => {
    const { backoff, advance } = make(1);
    const attempts = backoff.start(settings, 0, FAR);
    for (let i = 0; i < 30; i++) {
      attempts.failed(full, 0, 0);
      advance(10_000);
    }
    expect(backoff.learnedMs).toBe(4_000);
    expect(wait(attempts.failed(full, 0, 0))).toBe(6_000);
  });

  it('lets requests that have waited long retry sooner (fair aging), not later', () => {
    const { backoff, advance } = make();
    const young = backoff.start(settings, 0, FAR);
    const old = backoff.start(settings, 0, FAR);
    for (let i = 0; i < 5; i++) {
      old.failed(full, 0.2 * i * FAR, 0);
      advance(1_000);
    }
    expect(wait(old.failed(full, 0.9 * FAR, 0))).toBeLessThan(wait(young.failed(full, 0, 0)) / 3);
  });

  it('counts a request’s age in hold times, not in its deadline: twenty hold times quarter its wait', () => {
    const { backoff } = make();
    backoff.start(settings, 0, FAR).failed(full, 0, 0); // contention seen: an interval is learned
    const ageUnit = 20 * backoff.holdMs;
    const at = (age: number, deadline = FAR) => wait(backoff.start(settings, 0, deadline).failed(full, age, 0));
    const fresh = at(0);
    expect(fresh).toBe(Math.round(backoff.learnedMs * 2));
    expect(at(ageUnit)).toBe(Math.round(fresh / 4));
    expect(at(3 * ageUnit)).toBe(Math.round(fresh / 16));
    expect(at(100 * ageUnit)).toBe(Math.round(backoff.learnedMs * 0.05));
    // the deadline does not change it (it only bounds the wait near its end)
    expect(at(ageUnit, 28_000)).toBe(Math.round(fresh / 4));
  });

  it('spaces attempts by thirty times the refusal’s own duration, even for the oldest request, within the ceiling', () => {
    const { backoff } = make();
    expect(wait(backoff.start(settings, 0, FAR).failed(full, 60_000, 30))).toBe(900);
    expect(wait(backoff.start(settings, 0, FAR).failed(full, 60_000, 1_000))).toBe(4_000);
  });

  it('remembers contention across requests: the next request waits before its first attempt', () => {
    const { backoff, advance } = make(1);
    const first = backoff.start(settings, 0, FAR);
    first.failed(full, 0, 0);
    advance(1_000);
    first.failed(full, 0, 0);
    expect(backoff.learnedMs).toBeGreaterThan(0);
    expect(backoff.start(settings, 0, FAR).firstDelay(0)).toBe(Math.round(backoff.learnedMs));
  });

  it('waits before a first attempt no longer than leaves 50 ms for it', () => {
    const { backoff } = make(1);
    backoff.start(settings, 0, FAR).failed(full, 0, 900);
    expect(backoff.start(settings, 0, 300).firstDelay(0)).toBe(250);
    expect(backoff.start(settings, 0, 300).firstDelay(280)).toBe(0);
  });

  it('counts simultaneous refusals of concurrent requests in one module once', () => {
    const { backoff } = make();
    const requests = Array.from({ length: 40 }, () => backoff.start(settings, 0, FAR));
    for (const r of requests) r.failed(full, 0, 0);
    expect(backoff.learnedMs).toBeCloseTo(backoff.holdMs);
  });

  it('relaxes on successes until contention is forgotten', () => {
    const { backoff, advance } = make();
    const attempts = backoff.start(settings, 0, FAR);
    for (let i = 0; i < 4; i++) {
      attempts.failed(full, 0, 0);
      advance(1_000);
    }
    const before = backoff.learnedMs;
    backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBeCloseTo(before * 0.7);
    for (let i = 0; i < 50; i++) backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBe(0);
    expect(backoff.start(settings, 0, FAR).firstDelay(0)).toBe(0);
  });

  it('keeps the outage backoff of a request apart from its refusals', () => {
    const { backoff } = make();
    const attempts = backoff.start(settings, 0, FAR);
    attempts.failed(down, 0, 0);
    attempts.failed(full, 0, 0);
    expect(wait(attempts.failed(down, 0, 0))).toBe(40);
  });
});

describe('queryFailure', () => {
  it('calls a cancelled query (statement_timeout, cancel request) a timeout', () => {
    expect(queryFailure(withCode('57014'))).toBe('timeout');
  });

  it.each([
    ['25P03', 'idle_in_transaction_session_timeout'],
    ['57P01', 'admin_shutdown'],
    ['57P02', 'crash_shutdown'],
    ['08006', 'connection_failure'],
    ['08P01', 'protocol_violation'],
  ])('blames the connection for %s (%s)', (code) => {
    expect(queryFailure(withCode(code))).toBe('unavailable');
  });

  it('blames the connection for a busy pooler and for pg’s code-less connection errors', () => {
    expect(queryFailure(new Error('Timed-out waiting to acquire database connection.'))).toBe('unavailable');
    for (const message of ['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable', 'write EPIPE']) {
      expect(queryFailure(new Error(message)), message).toBe('unavailable');
    }
  });

  it.each(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'])('blames the connection for a socket error pg passes through with errno %s', (code) => {
    expect(queryFailure(withCode(code, `read ${code}`))).toBe('unavailable');
  });

  it('leaves the request’s own errors alone', () => {
    expect(queryFailure(withCode('23505'))).toBeUndefined();
    expect(queryFailure(withCode('22P02', 'Connection terminated'))).toBeUndefined();
    expect(queryFailure(new Error('boom'))).toBeUndefined();
  });
});

describe('mayRunAgain', () => {
  const notQueryable = new Error('Client has encountered a connection error and is not queryable');

  it('runs the work again when its connection died before its first query was sent', () => {
    expect(mayRunAgain(notQueryable, 1, 0, 1_000)).toBe(true);
  });

  it('never runs it again once a query may have reached the server, or past the deadline', () => {
    expect(mayRunAgain(notQueryable, 2, 0, 1_000)).toBe(false);
    expect(mayRunAgain(new Error('Connection terminated unexpectedly'), 1, 0, 1_000)).toBe(false);
    expect(mayRunAgain(withCode('08P01', 'query_wait_timeout'), 1, 0, 1_000)).toBe(false);
    expect(mayRunAgain(notQueryable, 1, 1_000, 1_000)).toBe(false);
  });
});

describe('errorCode', () => {
  it('returns the SQLSTATE or errno code of an error', () => {
    expect(errorCode(withCode('23505'))).toBe('23505');
    expect(errorCode({ code: 'ECONNREFUSED' })).toBe('ECONNREFUSED');
  });

  it('returns undefined when there is no string code', () => {
    expect(errorCode(new Error('x'))).toBeUndefined();
    expect(errorCode({ code: 53300 })).toBeUndefined();
    expect(errorCode(null)).toBeUndefined();
    expect(errorCode(undefined)).toBeUndefined();
    expect(errorCode('53300')).toBeUndefined();
  });
});
