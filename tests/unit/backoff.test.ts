import { describe, expect, it } from 'vitest';
import { ConnectBackoff } from '../../lib/backoff.js';

const settings = { baseMs: 10, maxMs: 4_000 };
const fixed = (value: number) => () => value;

describe('ConnectBackoff', () => {
  it('lets the first attempt go at once until contention has been seen', () => {
    expect(new ConnectBackoff(fixed(0.9)).start(settings).firstDelay()).toBe(0);
  });

  it('starts retrying after about one measured hold time and doubles on each refusal', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    backoff.succeeded(40, settings); // hold time moves towards 40 ms
    const hold = backoff.holdMs;
    const request = backoff.start(settings);
    expect(request.refused()).toBe(Math.round(hold));
    expect(request.refused()).toBe(Math.round(hold * 2));
    expect(request.refused()).toBe(Math.round(hold * 4));
  });

  it('waits at least as long as a slow refusal took', () => {
    const request = new ConnectBackoff(fixed(0.5)).start(settings);
    expect(request.refused(0, 900)).toBe(900);
  });

  it('never waits longer than the ceiling, jitter included up to 1.5x', () => {
    const request = new ConnectBackoff(fixed(1)).start(settings);
    for (let i = 0; i < 30; i++) request.refused();
    expect(request.refused()).toBe(6_000);
  });

  it('shortens the wait of requests that have already waited long (fair aging)', () => {
    const young = new ConnectBackoff(fixed(0.5)).start(settings);
    const old = new ConnectBackoff(fixed(0.5)).start(settings);
    for (let i = 0; i < 5; i++) {
      young.refused();
      old.refused();
    }
    expect(old.refused(0.9)).toBeLessThan(young.refused(0) / 3);
  });

  it('remembers contention across requests: the next request waits before its first attempt', () => {
    const backoff = new ConnectBackoff(fixed(1));
    const first = backoff.start(settings);
    first.refused();
    first.refused();
    expect(backoff.learnedMs).toBeGreaterThan(0);
    expect(backoff.start(settings).firstDelay()).toBe(Math.round(backoff.learnedMs));
  });

  it('does not compound the increases of concurrent requests in one module', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    const requests = Array.from({ length: 40 }, () => backoff.start(settings));
    for (const r of requests) r.refused();
    expect(backoff.learnedMs).toBeCloseTo(backoff.holdMs);
  });

  it('relaxes on successes until contention is forgotten', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    const request = backoff.start(settings);
    for (let i = 0; i < 4; i++) request.refused();
    const before = backoff.learnedMs;
    backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBeCloseTo(before * 0.7);
    for (let i = 0; i < 50; i++) backoff.succeeded(20, settings);
    expect(backoff.learnedMs).toBe(0);
    expect(backoff.start(settings).firstDelay()).toBe(0);
  });
});
