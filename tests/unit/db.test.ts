import { describe, expect, it } from 'vitest';
import { errorCode, isPoolerBusy, isRetryableConnectError } from '../../lib/db.js';

// The pure helpers of the connection layer; the connection itself is covered against real
// PostgreSQL in tests/integration/db.test.ts.

const withCode = (code: string) => Object.assign(new Error(`failed with ${code}`), { code });

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

describe('isPoolerBusy', () => {
  // PgBouncer 1.18's FATAL texts (SQLSTATE 08P01), as seen against a real PgBouncer; RDS Proxy's
  // texts from its troubleshooting guide (AWS documents no SQLSTATE for them).
  const poolerBusy = [
    ['PgBouncer max_client_conn', Object.assign(new Error('no more connections allowed (max_client_conn)'), { code: '08P01' })],
    ['PgBouncer max_db_connections', Object.assign(new Error('no more connections allowed (max_db_connections)'), { code: '08P01' })],
    ['PgBouncer query_wait_timeout', Object.assign(new Error('query_wait_timeout'), { code: '08P01' })],
    ['RDS Proxy borrow timeout', new Error('Timed-out waiting to acquire database connection.')],
    ['RDS Proxy client limit', new Error('The maximum number of client connections to the proxy exceeded 1000.')],
    ['RDS Proxy connection rate', new Error('Rate of connection to proxy exceeded 50.')],
    ['RDS Proxy IAM throttle', new Error('The IAM authentication failed because of too many competing requests.')],
  ] as const;

  it.each(poolerBusy)('recognises %s, and the connect is retried', (_, err) => {
    expect(isPoolerBusy(err)).toBe(true);
    expect(isRetryableConnectError(err)).toBe(true);
  });

  it('leaves other 08P01 errors and bad credentials alone', () => {
    expect(isPoolerBusy(Object.assign(new Error('invalid message format'), { code: '08P01' }))).toBe(false);
    expect(isPoolerBusy(withCode('28P01'))).toBe(false);
    expect(isRetryableConnectError(Object.assign(new Error('The password that was provided for the role app is wrong.'), {}))).toBe(false);
    expect(isPoolerBusy('query_wait_timeout')).toBe(false);
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
