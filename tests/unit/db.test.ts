import { describe, expect, it } from 'vitest';
import { backoffMs, errorCode, isRetryableConnectError } from '../../lib/db.js';

// The pure helpers of the connection layer; the connection itself is covered against real
// PostgreSQL in tests/integration/db.test.ts.

const withCode = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

describe('backoffMs', () => {
  it('is at most base * 2^attempt', () => {
    expect(backoffMs(0, 5, 250, () => 1)).toBe(5);
    expect(backoffMs(1, 5, 250, () => 1)).toBe(10);
    expect(backoffMs(3, 5, 250, () => 1)).toBe(40);
  });

  it('never exceeds the maximum', () => {
    expect(backoffMs(6, 5, 250, () => 1)).toBe(250);
    expect(backoffMs(1_000, 5, 250, () => 1)).toBe(250);
  });

  it('is uniformly jittered between 0 and the cap (full jitter)', () => {
    expect(backoffMs(3, 5, 250, () => 0.5)).toBe(20);
    expect(backoffMs(3, 5, 250, () => 0.25)).toBe(10);
  });

  it('waits at least 1 ms', () => {
    expect(backoffMs(0, 5, 250, () => 0)).toBe(1);
  });

  it('stays finite for huge attempt numbers', () => {
    expect(backoffMs(Number.MAX_SAFE_INTEGER, 1, 60_000, () => 1)).toBe(60_000);
  });

  it('stays within bounds with the default random source', () => {
    for (let attempt = 0; attempt < 50; attempt++) {
      const delay = backoffMs(attempt, 5, 250);
      expect(delay).toBeGreaterThanOrEqual(1);
      expect(delay).toBeLessThanOrEqual(Math.min(250, 5 * 2 ** attempt));
    }
  });
});

describe('isRetryableConnectError', () => {
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
    expect(isRetryableConnectError(withCode(code))).toBe(true);
  });

  it.each([
    ['28P01', 'invalid_password'],
    ['42P01', 'undefined_table'],
    ['3D000', 'invalid_catalog_name'],
    ['ENOTFOUND', 'unknown host'],
  ])('does not retry %s (%s)', (code) => {
    expect(isRetryableConnectError(withCode(code))).toBe(false);
  });

  it('retries pg’s own connect timeout and an early hang-up, which carry no code', () => {
    expect(isRetryableConnectError(new Error('timeout expired'))).toBe(true);
    expect(isRetryableConnectError(new Error('Connection terminated unexpectedly'))).toBe(true);
  });

  it('does not retry other errors or non-errors', () => {
    expect(isRetryableConnectError(new Error('boom'))).toBe(false);
    expect(isRetryableConnectError(undefined)).toBe(false);
    expect(isRetryableConnectError(null)).toBe(false);
    expect(isRetryableConnectError('timeout expired')).toBe(false);
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
