import { describe, expect, it } from 'vitest';
import { ConnectBackoff } from '../../lib/backoff.js';

const settings = { baseMs: 10, maxMs: 4_000 };
const fixed = (value: number) => () => value;

/** A backoff with a fixed random draw and a clock the test moves. */
function make(random = 0.5) {
  let now = 0;
  const backoff = new ConnectBackoff(fixed(random), () => now);
  return { backoff, advance: (ms: number) => (now += ms) };
}

describe('ConnectBackoff', () => {
  it('lets the first attempt go at once until contention has been seen', () => {
    expect(make(0.9).backoff.start(settings).firstDelay()).toBe(0);
  });

  it('learns an interval of about one measured hold time, doubled on each refusal; a fresh request waits two intervals', () => {
    const { backoff, advance } = make();
    backoff.succeeded(40, settings); // hold time moves towards 40 ms
    const hold = backoff.holdMs;
    const request = backoff.start(settings);
    expect(request.refused()).toBe(Math.round(hold * 2));
    expect(backoff.learnedMs).toBeCloseTo(hold);
    advance(1_000);
    request.refused();
    expect(backoff.learnedMs).toBeCloseTo(hold * 2);
    advance(1_000);
    request.refused();
    expect(backoff.learnedMs).toBeCloseTo(hold * 4);
  });

  it('learns at least as long an interval as a slow refusal took', () => {
    const { backoff } = make();
    backoff.start(settings).refused(0, 900);
    expect(backoff.learnedMs).toBe(900);
  });

  it('tries several more times in what is left of the deadline', () => {
    const { backoff } = make();
    expect(backoff.start(settings).refused(0, 900, 600)).toBe(100);
  });

  it('never waits longer than the ceiling, jitter included up to 1.5x', () => {
    const { backoff, advance } = make(1);
    const request = backoff.start(settings);
    for (let i = 0; i < 30; i++) {
      request.refused();
      advance(10_000);
    }
    expect(backoff.learnedMs).toBe(4_000);
    expect(request.refused()).toBe(6_000);
  });

  it('lets requests that have waited long retry sooner (fair aging), not later', () => {
    const { backoff, advance } = make();
    const young = backoff.start(settings);
    const old = backoff.start(settings);
    for (let i = 0; i < 5; i++) {
      old.refused(0.2 * i);
      advance(1_000);
    }
    expect(old.refused(0.9)).toBeLessThan(young.refused(0) / 3);
  });

  it('remembers contention across requests: the next request waits before its first attempt', () => {
    const { backoff, advance } = make(1);
    const first = backoff.start(settings);
    first.refused();
    advance(1_000);
    first.refused();
    expect(backoff.learnedMs).toBeGreaterThan(0);
    expect(backoff.start(settings).firstDelay()).toBe(Math.round(backoff.learnedMs));
  });

  it('counts simultaneous refusals of concurrent requests in one module once', () => {
    const { backoff } = make();
    const requests = Array.from({ length: 40 }, () => backoff.start(settings));
    for (const r of requests) r.refused();
    expect(backoff.learnedMs).toBeCloseTo(backoff.holdMs);
  });

  it('relaxes on successes until contention is forgotten', () => {
    const { backoff, advance } = make();
    const request = backoff.start(settings);
    for (let i = 0; i < 4; i++) {
      request.refused();
      advance(1_000);
    }
    const before = backoff.learnedMs;
    backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBeCloseTo(before * 0.7);
    for (let i = 0; i < 50; i++) backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBe(0);
    expect(backoff.start(settings).firstDelay()).toBe(0);
  });
});
