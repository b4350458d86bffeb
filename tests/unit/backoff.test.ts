import { describe, expect, it } from 'vitest';
import { ConnectBackoff } from '../../lib/backoff.js';

const settings = { baseMs: 10, maxMs: 4_000 };
const fixed = (value: number) => () => value;

describe('ConnectBackoff', () => {
  it('lets the first attempt go at once until contention has been seen', () => {
    expect(new ConnectBackoff(fixed(0.9)).firstDelay()).toBe(0);
  });

  it('starts retrying after about one measured hold time and doubles on each refusal', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    backoff.succeeded(40, settings); // hold time moves towards 40 ms
    const hold = backoff.holdMs;
    expect(backoff.refused(settings)).toBe(Math.round(hold));
    expect(backoff.refused(settings)).toBe(Math.round(hold * 2));
    expect(backoff.refused(settings)).toBe(Math.round(hold * 4));
  });

  it('never waits longer than the ceiling, jitter included up to 1.5x', () => {
    const backoff = new ConnectBackoff(fixed(1));
    for (let i = 0; i < 30; i++) backoff.refused(settings);
    expect(backoff.intervalMs).toBe(4_000);
    expect(backoff.refused(settings)).toBeLessThanOrEqual(6_000);
  });

  it('shortens the wait of requests that have already waited long (fair aging)', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    for (let i = 0; i < 5; i++) backoff.refused(settings);
    const young = backoff.refused(settings, 0);
    const old = new ConnectBackoff(fixed(0.5));
    for (let i = 0; i < 5; i++) old.refused(settings);
    expect(old.refused(settings, 0.9)).toBeLessThan(young / 3);
  });

  it('remembers contention across requests: the next first attempt also waits', () => {
    const backoff = new ConnectBackoff(fixed(1));
    backoff.refused(settings);
    backoff.refused(settings);
    expect(backoff.firstDelay()).toBeGreaterThan(0);
  });

  it('relaxes on successes until contention is forgotten', () => {
    const backoff = new ConnectBackoff(fixed(0.5));
    for (let i = 0; i < 4; i++) backoff.refused(settings);
    const before = backoff.intervalMs;
    backoff.succeeded(20, settings);
    expect(backoff.intervalMs).toBeCloseTo(before * 0.7);
    for (let i = 0; i < 50; i++) backoff.succeeded(20, settings);
    expect(backoff.intervalMs).toBe(0);
    expect(backoff.firstDelay()).toBe(0);
  });

  it('settles where about one attempt in three is refused', () => {
    // x2 per refusal and x0.7 per success balance at p = ln(1/0.7) / (ln 2 + ln(1/0.7)).
    const p = Math.log(1 / 0.7) / (Math.log(2) + Math.log(1 / 0.7));
    expect(p).toBeGreaterThan(0.3);
    expect(p).toBeLessThan(0.36);
  });
});
