import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../lib/config.js';

// Observability, CORS and login-limit settings.

const base = { JWT_SECRET: 'a-jwt-secret-of-at-least-32-characters!', DATABASE_URL: 'postgres://app:pw@db.internal:6543/cashbook' };

describe('loadConfig: observability, CORS, login limit', () => {
  it('defaults: metrics on, no CORS origins, 5 failures per 15 minutes', () => {
    const config = loadConfig(base);
    expect(config.metrics).toEqual({ enabled: true, namespace: 'CashbookApi' });
    expect(config.corsOrigins).toEqual([]);
    expect(config.login).toEqual({ maxFailures: 5, windowSeconds: 900, sourceMaxFailures: 50, userMaxFailures: 20, userWindowSeconds: 3600, delaySeconds: 2, maxDelaySeconds: 300 });
    expect(config.register).toEqual({ max: 20, windowSeconds: 3600 });
    expect(config.passwords).toEqual({ pbkdf2Iterations: 260_000 });
    expect(config.functionName).toBe('cashbook-local');
  });

  it('turns metrics off with LOG_LEVEL=silent unless METRICS_ENABLED says otherwise', () => {
    expect(loadConfig({ ...base, LOG_LEVEL: 'silent' }).metrics.enabled).toBe(false);
    expect(loadConfig({ ...base, LOG_LEVEL: 'silent', METRICS_ENABLED: 'true' }).metrics.enabled).toBe(true);
    expect(loadConfig({ ...base, METRICS_ENABLED: 'false' }).metrics.enabled).toBe(false);
  });

  it('splits CORS_ORIGINS on commas and trims', () => {
    expect(loadConfig({ ...base, CORS_ORIGINS: ' https://a.example , https://*.b.example,, ' }).corsOrigins).toEqual([
      'https://a.example',
      'https://*.b.example',
    ]);
  });

  it('names a bad login-limit variable', () => {
    expect(() => loadConfig({ ...base, LOGIN_MAX_FAILURES: '0' })).toThrow(/LOGIN_MAX_FAILURES must be at least 1/);
    expect(() => loadConfig({ ...base, LOGIN_WINDOW_SECONDS: 'soon' })).toThrow(/LOGIN_WINDOW_SECONDS must be a number/);
  });
});
