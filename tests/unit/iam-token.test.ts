import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../lib/config.js';
import { TOKEN_REUSE_MS, iamAuthToken, setSignerFactory, type SignerFactory } from '../../lib/iam-token.js';

const db = (overrides: Partial<DatabaseConfig> = {}): DatabaseConfig => ({
  host: 'proxy.proxy-abc.eu-west-1.rds.amazonaws.com',
  port: 5432,
  database: 'cashbook',
  user: 'cashbook_app',
  password: undefined,
  auth: 'iam',
  region: 'eu-west-1',
  ssl: 'verify-full',
  sslCaFile: undefined,
  connectTimeoutMs: 3_000,
  retryBaseMs: 5,
  retryMaxMs: 250,
  deadlineMarginMs: 300,
  applicationName: 'cashbook-test',
  pooled: false,
  ...overrides,
});

/** A signer factory that records what it was asked for and hands out numbered tokens. */
function fakeSigner() {
  const requests: { host: string; port: number; user: string; region: string | undefined }[] = [];
  const factory: SignerFactory = async (cfg) => ({
    getAuthToken: async () => {
      requests.push({ host: cfg.host, port: cfg.port, user: cfg.user, region: cfg.region });
      return `token-${requests.length}`;
    },
  });
  return { factory, requests };
}

describe('iamAuthToken', () => {
  afterEach(() => setSignerFactory(undefined));

  it('asks the signer for the configured host, port, user and region', async () => {
    const signer = fakeSigner();
    setSignerFactory(signer.factory);
    await expect(iamAuthToken(db(), 0)).resolves.toBe('token-1');
    expect(signer.requests).toEqual([
      { host: 'proxy.proxy-abc.eu-west-1.rds.amazonaws.com', port: 5432, user: 'cashbook_app', region: 'eu-west-1' },
    ]);
  });

  it('reuses the token for 10 minutes', async () => {
    const signer = fakeSigner();
    setSignerFactory(signer.factory);
    const start = 1_000_000;
    await iamAuthToken(db(), start);
    await expect(iamAuthToken(db(), start + 60_000)).resolves.toBe('token-1');
    await expect(iamAuthToken(db(), start + TOKEN_REUSE_MS - 1)).resolves.toBe('token-1');
    expect(signer.requests).toHaveLength(1);
  });

  it('signs a new token once TOKEN_REUSE_MS has passed', async () => {
    expect(TOKEN_REUSE_MS).toBe(10 * 60 * 1000);
    const signer = fakeSigner();
    setSignerFactory(signer.factory);
    await iamAuthToken(db(), 0);
    await expect(iamAuthToken(db(), TOKEN_REUSE_MS)).resolves.toBe('token-2');
    await expect(iamAuthToken(db(), TOKEN_REUSE_MS + 1)).resolves.toBe('token-2');
    expect(signer.requests).toHaveLength(2);
  });

  it('never hands out a token near its 15-minute expiry: reuse ends with minutes to spare', async () => {
    // A token picked at the end of its reuse window still has to survive the connect retries of
    // one invocation (at most the 10 s function timeout; API Gateway's 30 s as an upper bound).
    const IAM_TOKEN_LIFETIME_MS = 15 * 60 * 1000;
    expect(TOKEN_REUSE_MS + 30_000).toBeLessThan(IAM_TOKEN_LIFETIME_MS);
    const signer = fakeSigner();
    setSignerFactory(signer.factory);
    const signedAt = new Map<string, number>();
    const start = 5_000_000;
    for (let t = start; t < start + 2 * IAM_TOKEN_LIFETIME_MS; t += 30_000) {
      const token = await iamAuthToken(db(), t);
      if (!signedAt.has(token)) signedAt.set(token, t);
      // Every token handed out is younger than TOKEN_REUSE_MS, so it has > 4 min left.
      expect(t - signedAt.get(token)!).toBeLessThan(TOKEN_REUSE_MS);
    }
    expect(signer.requests.length).toBe(3);
  });

  it.each([
    ['host', { host: 'other.rds.amazonaws.com' }],
    ['port', { port: 6432 }],
    ['user', { user: 'cashbook_admin' }],
    ['region', { region: 'us-east-1' }],
  ] as const)('signs a different token for a different %s', async (_, change) => {
    const signer = fakeSigner();
    setSignerFactory(signer.factory);
    await iamAuthToken(db(), 0);
    await expect(iamAuthToken(db(change), 1)).resolves.toBe('token-2');
    expect(signer.requests[1]).toMatchObject(change);
  });

  it('forgets the cached token when the factory is replaced', async () => {
    setSignerFactory(fakeSigner().factory);
    await iamAuthToken(db(), 0);
    setSignerFactory(async () => ({ getAuthToken: async () => 'from-new-factory' }));
    await expect(iamAuthToken(db(), 1)).resolves.toBe('from-new-factory');
  });

  it('passes a signer failure on and caches nothing', async () => {
    let calls = 0;
    setSignerFactory(async () => ({
      getAuthToken: async () => {
        calls++;
        if (calls === 1) throw new Error('no credentials');
        return 'second-try';
      },
    }));
    await expect(iamAuthToken(db(), 0)).rejects.toThrow('no credentials');
    await expect(iamAuthToken(db(), 1)).resolves.toBe('second-try');
  });

  describe('with the real @aws-sdk/rds-signer', () => {
    const CREDENTIAL_VARS = ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
    const saved: Partial<Record<(typeof CREDENTIAL_VARS)[number], string>> = {};

    afterEach(() => {
      for (const name of CREDENTIAL_VARS) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    });

    it('presigns a connect URL offline from environment credentials, without the secret key', async () => {
      for (const name of CREDENTIAL_VARS) saved[name] = process.env[name];
      const secret = 'fakeSecretKeyForUnitTestsOnly0123456789ab';
      process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEUNITTEST0001';
      process.env.AWS_SECRET_ACCESS_KEY = secret;
      delete process.env.AWS_SESSION_TOKEN;
      setSignerFactory(undefined);

      const token = await iamAuthToken(db({ port: 6543, user: 'app_user' }), 0);

      expect(token.startsWith('proxy.proxy-abc.eu-west-1.rds.amazonaws.com:6543/?')).toBe(true);
      expect(token).toContain('Action=connect');
      expect(token).toContain('DBUser=app_user');
      expect(token).toContain('X-Amz-Signature=');
      expect(token).toContain('AKIAFAKEUNITTEST0001');
      expect(token).toContain('eu-west-1%2Frds-db%2Faws4_request');
      expect(token).not.toContain(secret);
    });
  });
});
