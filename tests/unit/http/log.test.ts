import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newStats } from '../../../lib/db.js';
import { DatabaseUnavailable, NotFound } from '../../../lib/errors.js';
import { logInvocation } from '../../../lib/http/log.js';
import { recordInvocation } from '../../../lib/http/metrics.js';

function capture(): { lines: () => Record<string, any>[] } {
  const writes: string[] = [];
  // Powertools writes INFO to stdout and ERROR to stderr.
  for (const stream of [process.stdout, process.stderr]) {
    vi.spyOn(stream, 'write').mockImplementation((chunk: any) => {
      writes.push(String(chunk));
      return true;
    });
  }
  return { lines: () => writes.join('').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) };
}

const request = (extra: object = {}) => ({
  event: { routeKey: 'POST /api/token', body: '{"username":"alice","password":"hunter22"}', headers: { authorization: 'Bearer secret-token' } },
  context: {
    awsRequestId: 'req-1',
    functionName: 'cashbook-obtainToken',
    startedAt: Date.now() - 12,
    stats: { connectAttempts: 3, connectMs: 12.345, heldMs: 4.56 },
  },
  response: { statusCode: 200 },
  ...extra,
});

describe('invocation log line (Powertools logger)', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one JSON line with request id, route, status, duration and connection numbers', () => {
    const out = capture();
    logInvocation(request(), new Logger({ serviceName: 'test', logLevel: 'INFO' }));
    const lines = out.lines();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      message: 'request',
      requestId: 'req-1',
      route: 'POST /api/token',
      status: 200,
      durationMs: expect.any(Number),
      db: { connectAttempts: 3, connectMs: 12.3, heldMs: 4.6 },
      outcome: 'ok',
    });
  });

  it('never logs bodies, passwords or tokens', () => {
    const out = capture();
    logInvocation(request(), new Logger({ serviceName: 'test', logLevel: 'INFO' }));
    const text = JSON.stringify(out.lines());
    expect(text).not.toContain('hunter22');
    expect(text).not.toContain('secret-token');
  });

  it('logs 5xx at error level with the failure, 4xx at info without it', () => {
    const out = capture();
    const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
    logInvocation(request({ response: { statusCode: 503 }, error: new DatabaseUnavailable() }), logger);
    logInvocation(request({ response: { statusCode: 404 }, error: new NotFound() }), logger);
    const [busy, missing] = out.lines();
    expect(busy).toMatchObject({ level: 'ERROR', status: 503, outcome: 'database_unavailable', failure: { name: 'DatabaseUnavailable' } });
    expect(missing).toMatchObject({ level: 'INFO', status: 404, outcome: 'not_found' });
    expect(missing).not.toHaveProperty('failure');
  });

  it('prints nothing at LOG_LEVEL=silent, and only 5xx at warn', () => {
    const out = capture();
    logInvocation(request(), new Logger({ serviceName: 'test', logLevel: 'SILENT' }));
    const warn = new Logger({ serviceName: 'test', logLevel: 'WARN' });
    logInvocation(request({ response: { statusCode: 400 } }), warn);
    logInvocation(request({ response: { statusCode: 500 }, error: new Error('boom') }), warn);
    expect(out.lines().map((l) => l.status)).toEqual([500]);
  });
});

describe('invocation metrics (EMF)', () => {
  const emf = (m: Metrics) => m.serializeMetrics() as unknown as Record<string, any>;

  it('records connect ms, held ms and retries, by function', () => {
    const m = new Metrics({ namespace: 'Test', serviceName: 'svc', defaultDimensions: { function: 'fn' } });
    recordInvocation(m, { connectAttempts: 3, connectMs: 12.34, heldMs: 5 }, undefined);
    const out = emf(m);
    expect(out).toMatchObject({ DbConnectMs: 12.3, DbHeldMs: 5, DbConnectRetries: 2, DbBudgetExhausted: 0, function: 'fn' });
    expect(out._aws.CloudWatchMetrics[0].Dimensions[0]).toContain('function');
  });

  it('counts a 503 database_unavailable as DbBudgetExhausted', () => {
    const m = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    recordInvocation(m, { ...newStats(), connectAttempts: 7, connectMs: 900 }, new DatabaseUnavailable());
    expect(emf(m)).toMatchObject({ DbBudgetExhausted: 1, DbConnectRetries: 6 });
  });

  it('skips the connection metrics when no connection was attempted', () => {
    const m = new Metrics({ namespace: 'Test', serviceName: 'svc' });
    recordInvocation(m, newStats(), undefined);
    const out = emf(m);
    expect(out).not.toHaveProperty('DbConnectMs');
    expect(out.DbBudgetExhausted).toBe(0);
  });
});
