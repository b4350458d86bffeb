import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../lib/config.js';

const SECRET = 'a-jwt-secret-of-at-least-32-characters!';
const base = { JWT_SECRET: SECRET, DATABASE_URL: 'postgres://app:pw@db.internal:6543/cashbook' };

function configError(env: Record<string, string | undefined>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  describe('defaults', () => {
    it('fills every optional setting with its documented default', () => {
      const config = loadConfig(base);
      expect(config.db).toMatchObject({
        auth: 'password',
        ssl: 'disable',
        connectTimeoutMs: 3_000,
        retryBaseMs: 10,
        retryMaxMs: 4_000,
        deadlineMarginMs: 800,
        applicationName: 'cashbook-local',
        pooled: false,
        region: undefined,
        sslCaFile: undefined,
      });
      expect(config.jwt).toEqual({
        secret: SECRET,
        accessTtlSeconds: 300,
        refreshTtlSeconds: 86_400,
        rotateRefreshTokens: false,
      });
      expect(config.http).toEqual({ maxBodyBytes: 64 * 1024, timeoutEarlyMs: 1_000 });
      expect(config.statements).toEqual({ maxRows: 20_000 });
      expect(config.logLevel).toBe('info');
      expect(config.defaultCurrency).toBe('INR');
    });

    it('reads DEFAULT_CURRENCY as an upper-cased ISO 4217 code and refuses others', () => {
      expect(loadConfig({ ...base, DEFAULT_CURRENCY: 'eur' }).defaultCurrency).toBe('EUR');
      expect(configError({ ...base, DEFAULT_CURRENCY: 'EURO' }).message).toContain(
        'DEFAULT_CURRENCY must be an ISO 4217 currency code such as INR, USD or EUR',
      );
    });

    it('reads JWT_ROTATE_REFRESH_TOKENS as a boolean', () => {
      expect(loadConfig({ ...base, JWT_ROTATE_REFRESH_TOKENS: 'true' }).jwt.rotateRefreshTokens).toBe(true);
      expect(loadConfig({ ...base, JWT_ROTATE_REFRESH_TOKENS: 'yes' }).jwt.rotateRefreshTokens).toBe(true);
      expect(loadConfig({ ...base, JWT_ROTATE_REFRESH_TOKENS: '0' }).jwt.rotateRefreshTokens).toBe(false);
    });

    it('truncates the application name to PostgreSQL’s 63 characters', () => {
      const config = loadConfig({ ...base, AWS_LAMBDA_FUNCTION_NAME: 'f'.repeat(80) });
      expect(config.db.applicationName).toBe('f'.repeat(63));
    });

    it('names the stage, not the function, behind a pooler (no SET application_name between functions)', () => {
      const env = { ...base, AWS_LAMBDA_FUNCTION_NAME: 'cashbook-api-prod-listTransactions' };
      expect(loadConfig(env).db.applicationName).toBe('cashbook-api-prod-listTransactions');
      expect(loadConfig({ ...env, DB_POOLED: 'true' }).db.applicationName).toBe('cashbook-api-prod');
      expect(loadConfig({ ...base, DB_POOLED: 'true' }).db.applicationName).toBe('cashbook');
    });
  });

  describe('DATABASE_URL', () => {
    it('yields user, password, host, port and database', () => {
      expect(loadConfig(base).db).toMatchObject({
        user: 'app',
        password: 'pw',
        host: 'db.internal',
        port: 6543,
        database: 'cashbook',
      });
    });

    it('percent-decodes user, password and database name', () => {
      const config = loadConfig({ ...base, DATABASE_URL: 'postgresql://us%40er:p%40ss%2Fw@h/my%20db' });
      expect(config.db).toMatchObject({ user: 'us@er', password: 'p@ss/w', database: 'my db' });
    });

    it('uses DB_PORT (default 5432) when the URL has no port', () => {
      expect(loadConfig({ ...base, DATABASE_URL: 'postgres://u@h/d' }).db.port).toBe(5432);
      expect(loadConfig({ ...base, DATABASE_URL: 'postgres://u@h/d', DB_PORT: '6000' }).db.port).toBe(6000);
    });

    it('leaves the password undefined when the URL has none', () => {
      expect(loadConfig({ ...base, DATABASE_URL: 'postgres://u@h/d' }).db.password).toBeUndefined();
    });

    it('takes sslmode=require or verify-full from the URL', () => {
      expect(loadConfig({ ...base, DATABASE_URL: 'postgres://u@h/d?sslmode=require' }).db.ssl).toBe('require');
      expect(loadConfig({ ...base, DATABASE_URL: 'postgres://u@h/d?sslmode=verify-full' }).db.ssl).toBe('verify-full');
    });

    it('falls back to DB_SSL for other sslmodes', () => {
      const env = { ...base, DATABASE_URL: 'postgres://u@h/d?sslmode=prefer', DB_SSL: 'require' };
      expect(loadConfig(env).db.ssl).toBe('require');
    });

    it('rejects a URL that is not postgres://, naming the variable but not its value', () => {
      const err = configError({ ...base, DATABASE_URL: 'mysql://root:hunter2@h/d' });
      expect(err.message).toContain('DATABASE_URL');
      expect(err.message).not.toContain('hunter2');
    });

    it('lets DB_* variables override the URL’s parts', () => {
      const config = loadConfig({ ...base, DB_HOST: 'other', DB_PORT: '7000', DB_USER: 'admin', DB_PASSWORD: 'x' });
      expect(config.db).toMatchObject({ host: 'other', port: 7000, user: 'admin', password: 'x', database: 'cashbook' });
    });
  });

  describe('DB_HOST, DB_NAME and DB_USER instead of DATABASE_URL', () => {
    it('builds the database settings from the separate variables', () => {
      const config = loadConfig({ JWT_SECRET: SECRET, DB_HOST: 'h', DB_NAME: 'n', DB_USER: 'u', DB_PASSWORD: 'p' });
      expect(config.db).toMatchObject({ host: 'h', port: 5432, database: 'n', user: 'u', password: 'p' });
    });

    it('requires all three when DATABASE_URL is unset', () => {
      const err = configError({ JWT_SECRET: SECRET, DB_HOST: 'h', DB_NAME: 'n' });
      expect(err.message).toContain('set DATABASE_URL, or DB_HOST, DB_NAME and DB_USER');
    });

    it('reports a missing database when nothing is set', () => {
      expect(configError({ JWT_SECRET: SECRET }).message).toContain('DATABASE_URL');
    });
  });

  describe('JWT_SECRET', () => {
    it('is required', () => {
      expect(configError({ DATABASE_URL: base.DATABASE_URL }).message).toContain('JWT_SECRET');
    });

    it('must be at least 32 characters, and the message never shows the secret', () => {
      const short = 'secret-31-characters-long-xxxxx';
      expect(short).toHaveLength(31);
      const err = configError({ ...base, JWT_SECRET: short });
      expect(err.message).toContain('JWT_SECRET must be at least 32 characters');
      expect(err.message).not.toContain(short);
    });

    it('accepts exactly 32 characters', () => {
      expect(loadConfig({ ...base, JWT_SECRET: 's'.repeat(32) }).jwt.secret).toBe('s'.repeat(32));
    });
  });

  describe('DB_PORT', () => {
    it.each(['abc', '0', '65536', '5432.5'])('rejects %j, naming DB_PORT', (port) => {
      const err = configError({ JWT_SECRET: SECRET, DB_HOST: 'h', DB_NAME: 'n', DB_USER: 'u', DB_PORT: port });
      expect(err.message).toMatch(/^Invalid configuration: DB_PORT /);
    });

    it('says a non-number is not a number', () => {
      const err = configError({ ...base, DB_PORT: 'abc' });
      expect(err.message).toContain('DB_PORT must be a number');
    });
  });

  it('names every bad variable in one error', () => {
    const err = configError({ JWT_SECRET: 'short', DATABASE_URL: 'nope', LOG_LEVEL: 'loud' });
    expect(err.message).toContain('JWT_SECRET');
    expect(err.message).toContain('DATABASE_URL');
    expect(err.message).toContain('LOG_LEVEL');
  });

  describe('JWT_SECRET_SSM_PARAMETER', () => {
    const ssm = { DATABASE_URL: base.DATABASE_URL, JWT_SECRET_SSM_PARAMETER: '/cashbook/prod/jwt-secret', AWS_REGION: 'eu-west-1' };

    it('replaces JWT_SECRET: the parameter name and region, no secret in the environment', () => {
      expect(loadConfig(ssm).jwt).toMatchObject({
        secret: undefined,
        secretParameter: { name: '/cashbook/prod/jwt-secret', region: 'eu-west-1' },
      });
    });

    it('refuses both at once', () => {
      expect(configError({ ...ssm, JWT_SECRET: SECRET }).message).toContain(
        'JWT_SECRET and JWT_SECRET_SSM_PARAMETER are both set',
      );
    });

    it('needs AWS_REGION', () => {
      expect(configError({ ...ssm, AWS_REGION: undefined }).message).toContain(
        'AWS_REGION is required with JWT_SECRET_SSM_PARAMETER',
      );
    });

    it('must be a parameter name starting with "/"', () => {
      expect(configError({ ...ssm, JWT_SECRET_SSM_PARAMETER: 'cashbook jwt' }).message).toContain(
        'JWT_SECRET_SSM_PARAMETER must be a parameter name',
      );
    });
  });

  describe('DB_AUTH=iam', () => {
    const iam = { JWT_SECRET: SECRET, DB_AUTH: 'iam', DB_HOST: 'proxy.rds', DB_NAME: 'n', DB_USER: 'u', DB_SSL: 'verify-full', AWS_REGION: 'eu-west-1' };

    it('is accepted with a region, a host and TLS', () => {
      expect(loadConfig(iam).db).toMatchObject({ auth: 'iam', region: 'eu-west-1', host: 'proxy.rds', ssl: 'verify-full' });
    });

    it('requires AWS_REGION', () => {
      expect(configError({ ...iam, AWS_REGION: undefined }).message).toContain('AWS_REGION is required when DB_AUTH=iam');
    });

    it('requires DB_HOST', () => {
      const err = configError({ ...iam, DB_HOST: undefined, DATABASE_URL: 'postgres://u@h/n' });
      expect(err.message).toContain('DB_HOST is required when DB_AUTH=iam');
    });

    it('refuses any DB_SSL but verify-full, explicit or defaulted (the token is a replayable password)', () => {
      const message = 'DB_SSL must be "verify-full" when DB_AUTH=iam';
      expect(configError({ ...iam, DB_SSL: 'disable' }).message).toContain(message);
      expect(configError({ ...iam, DB_SSL: 'require' }).message).toContain(message);
      expect(configError({ ...iam, DB_SSL: undefined }).message).toContain(message);
      expect(configError({ ...iam, DB_SSL: undefined, DATABASE_URL: 'postgres://u@h/n?sslmode=require' }).message).toContain(message);
    });

    it('rejects an unknown DB_AUTH', () => {
      expect(configError({ ...base, DB_AUTH: 'kerberos' }).message).toContain('DB_AUTH must be "password" or "iam"');
    });
  });

  describe('empty strings', () => {
    it('count as unset, so defaults apply', () => {
      const config = loadConfig({ ...base, DB_PORT: '', LOG_LEVEL: '', DB_SSL: '', DB_PASSWORD: '' });
      expect(config.db.ssl).toBe('disable');
      expect(config.logLevel).toBe('info');
      expect(config.db.password).toBe('pw');
    });

    it('count as unset for required variables', () => {
      expect(configError({ ...base, JWT_SECRET: '' }).message).toContain('JWT_SECRET');
      expect(configError({ JWT_SECRET: SECRET, DATABASE_URL: '' }).message).toContain('DATABASE_URL');
    });

    it('let DATABASE_URL apply when DB_HOST is empty', () => {
      expect(loadConfig({ ...base, DB_HOST: '' }).db.host).toBe('db.internal');
    });
  });
});

describe('loadConfig range messages', () => {
  const base = { DATABASE_URL: 'postgres://u:p@h:5432/d', JWT_SECRET: 'x'.repeat(32) };
  it('says which bound an out-of-range number breaks', () => {
    expect(() => loadConfig({ ...base, DB_PORT: '70000' })).toThrow('DB_PORT must be at most 65535');
    expect(() => loadConfig({ ...base, JWT_ACCESS_TTL_SECONDS: '5' })).toThrow('JWT_ACCESS_TTL_SECONDS must be at least 10');
  });

  it('accepts IAM auth when TLS comes from the URL\'s sslmode', () => {
    const cfg = loadConfig({
      ...base,
      DATABASE_URL: 'postgres://u@h.rds/d?sslmode=verify-full',
      DB_AUTH: 'iam',
      DB_HOST: 'h.rds',
      AWS_REGION: 'eu-west-1',
    });
    expect(cfg.db.ssl).toBe('verify-full');
  });

  describe('STATEMENT_MAX_ROWS', () => {
    it('takes a limit up to 50,000 entries, refusing more (memory and Lambda\'s 6 MB response) and less than 1', () => {
      expect(loadConfig({ ...base, STATEMENT_MAX_ROWS: '5000' }).statements.maxRows).toBe(5_000);
      expect(configError({ ...base, STATEMENT_MAX_ROWS: '50001' }).message).toContain('STATEMENT_MAX_ROWS must be at most 50000');
      expect(configError({ ...base, STATEMENT_MAX_ROWS: '0' }).message).toContain('STATEMENT_MAX_ROWS must be at least 1');
    });
  });
});

describe('receipts (ATTACHMENT_*)', () => {
  it('defaults to 10 MB per file, 1 GiB per user, AWS\'s endpoint and no bucket', () => {
    expect(loadConfig(base).attachments).toEqual({ bucket: undefined, endpoint: undefined, region: 'us-east-1', maxBytes: 10 * 1024 * 1024, quotaBytes: 1024 ** 3 });
  });

  it('reads the bucket, a local endpoint, the limits and the region', () => {
    const cfg = loadConfig({ ...base, ATTACHMENT_BUCKET: 'cashbook-prod-attachments', ATTACHMENT_S3_ENDPOINT: 'http://127.0.0.1:4569', ATTACHMENT_MAX_BYTES: '5000', ATTACHMENT_QUOTA_BYTES: '9000', AWS_REGION: 'eu-west-1' });
    expect(cfg.attachments).toEqual({ bucket: 'cashbook-prod-attachments', endpoint: 'http://127.0.0.1:4569', region: 'eu-west-1', maxBytes: 5000, quotaBytes: 9000 });
  });

  it('refuses a bucket name S3 would refuse, a non-HTTP endpoint and a size past a presigned POST\'s 5 GB', () => {
    expect(configError({ ...base, ATTACHMENT_BUCKET: 'Not_A_Bucket' }).message).toMatch(/ATTACHMENT_BUCKET must be an S3 bucket name/);
    expect(configError({ ...base, ATTACHMENT_S3_ENDPOINT: 'ftp://x' }).message).toMatch(/ATTACHMENT_S3_ENDPOINT must be an http/);
    expect(configError({ ...base, ATTACHMENT_MAX_BYTES: String(6 * 1024 ** 3) }).message).toMatch(/ATTACHMENT_MAX_BYTES must be at most/);
  });
});
