import { describe, expect, it } from 'vitest';
import { ConnectBackoff } from '../../lib/retry-policy.js';

// The connect policy's fairness under load, in a model: 64 containers (one request at a time
// each, as Lambda's), each with its own ConnectBackoff, send requests back to back at a server
// that admits 2 connections. The server's CPU is one queue: every attempt costs it a fork and
// an authentication (`connectMs`), admitted or refused, and a request admitted then costs it
// `holdMs` more before its slot frees. A virtual clock, a seeded random source: the same numbers
// on every machine. It is not a benchmark (`npm run bench` measures the real stack); it guards
// the policy's shape. The regimes are the machines the bench has run on: cheap connections
// (~6 ms of PostgreSQL CPU, Intel), dear ones (~45 ms, the EPYC VM) and cheap connections with
// slow statements (an EPYC VM whose connection cost ~6 ms and a request's statement ~16). Against
// the real stack the model's figures came out close: the policy aged by the deadline gave p99
// 14 x the mean here and 11-13 x on the Intel machine; 10 x at 16 clients here and 10-11 x on
// the EPYC machine; 8 x here and 8-9 x on the third machine, where this policy gave 4.2-4.5 x
// here and 4.3 x there (docs/capacity.md, "Fair waiting").

const settings = { baseMs: 10, maxMs: 4_000 };
const full = Object.assign(new Error('sorry, too many clients already'), { code: '53300' });

function seeded(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
}

interface Model {
  clients: number;
  connectMs: number;
  holdMs: number;
  slots?: number;
  seconds?: number;
  seed?: number;
}

function simulate({ clients, connectMs, holdMs, slots = 2, seconds = 120, seed = 1 }: Model) {
  const warmupMs = 20_000;
  let now = 0;
  let cpuFreeAt = 0;
  /** Work queued on the server's CPU; returns when it is done. */
  const onCpu = (ms: number) => (cpuFreeAt = Math.max(now, cpuFreeAt) + ms);
  const events: Array<{ at: number; run: () => void }> = [];
  const at = (time: number, run: () => void) => events.push({ at: time, run });
  let busy = 0;
  let attempts = 0;
  let failed = 0;
  const latencies: number[] = [];

  const request = (container: ConnectBackoff) => {
    const started = now;
    const tries = container.start(settings, started, started + 27_000);
    const attempt = () => {
      const attemptStarted = now;
      if (now > warmupMs) attempts++;
      at(onCpu(connectMs), () => {
        if (busy >= slots) {
          const next = tries.failed(full, now, now - attemptStarted);
          if ('wait' in next) return at(now + next.wait, attempt);
          failed++;
          return request(container);
        }
        busy++;
        at(onCpu(holdMs), () => {
          busy--;
          container.succeeded(now - attemptStarted, settings);
          if (now > warmupMs) latencies.push(now - started);
          request(container);
        });
      });
    };
    at(now + tries.firstDelay(now), attempt);
  };

  for (let i = 0; i < clients; i++) request(new ConnectBackoff(seeded(seed * 1_000 + i), () => now));
  while (events.length > 0) {
    let first = 0;
    for (let i = 1; i < events.length; i++) if (events[i]!.at < events[first]!.at) first = i;
    const [event] = events.splice(first, 1);
    now = event!.at;
    if (now > seconds * 1_000) break;
    event!.run();
  }
  latencies.sort((a, b) => a - b);
  const mean = latencies.reduce((sum, ms) => sum + ms, 0) / latencies.length;
  const p99 = latencies[Math.floor(latencies.length * 0.99)]!;
  return {
    okPerSecond: latencies.length / (seconds - warmupMs / 1_000),
    p99OverMean: p99 / mean,
    attemptsPerOk: attempts / latencies.length,
    failed,
  };
}

describe('connect fairness under 64 clients (a model of the server, not a benchmark)', () => {
  it.each([
    { machine: 'cheap connections', connectMs: 3, holdMs: 6, minOkPerSecond: 80 },
    { machine: 'dear connections', connectMs: 20, holdMs: 30, minOkPerSecond: 12 },
    { machine: 'cheap connections and slow statements', connectMs: 6, holdMs: 16, minOkPerSecond: 30 },
  ])('keeps p99 within 5 x the mean with $machine, without spending the server on refusals', ({ connectMs, holdMs, minOkPerSecond }) => {
    for (const seed of [1, 2]) {
      const result = simulate({ clients: 64, connectMs, holdMs, seed });
      expect(result.failed).toBe(0);
      expect(result.p99OverMean).toBeLessThan(5);
      // at most about 1.7 refusals per admitted request; with no refusals at all the server
      // would serve 1000 / (connectMs + holdMs) a second
      expect(result.attemptsPerOk).toBeLessThan(2.7);
      expect(result.okPerSecond).toBeGreaterThan(minOkPerSecond);
    }
  });

  it('costs little when there is little contention', () => {
    const result = simulate({ clients: 4, connectMs: 3, holdMs: 6 });
    expect(result.failed).toBe(0);
    expect(result.attemptsPerOk).toBeLessThan(1.5);
    expect(result.okPerSecond).toBeGreaterThan(100);
  });
});
