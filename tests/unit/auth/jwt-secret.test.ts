import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { jwtSecret, setSecretFetcher, type SecretFetcher } from '../../../lib/auth/jwt-secret.js';
import { ConfigError, type Config } from '../../../lib/config.js';
import { DependencyUnavailable } from '../../../lib/errors.js';
import { errorResponse } from '../../../lib/http/responses.js';

const SECRET = 'a-jwt-secret-from-ssm-of-at-least-32-chars';
const ssm = (name = '/cashbook/prod/jwt-secret'): Config['jwt'] => ({
  secret: undefined,
  secretParameter: { name, region: 'eu-west-1' },
  accessTtlSeconds: 300,
  refreshTtlSeconds: 86_400,
  rotateRefreshTokens: false,
});

function fakeFetcher(values: Array<string | Error>) {
  const calls: Array<{ name: string; region: string }> = [];
  const fetcher: SecretFetcher = async (parameter) => {
    calls.push(parameter);
    const next = values[Math.min(calls.length - 1, values.length - 1)]!;
    await new Promise((r) => setTimeout(r, 5));
    if (next instanceof Error) throw next;
    return next;
  };
  return { fetcher, calls };
}

describe('jwtSecret', () => {
  afterEach(() => setSecretFetcher(undefined));

  it('returns JWT_SECRET as is and never asks SSM', async () => {
    const fake = fakeFetcher([SECRET]);
    setSecretFetcher(fake.fetcher);
    await expect(jwtSecret({ ...ssm(), secret: 'local-secret', secretParameter: undefined })).resolves.toBe('local-secret');
    expect(fake.calls).toHaveLength(0);
  });

  it('reads the named parameter once, in the configured region, and keeps it for the container', async () => {
    const fake = fakeFetcher([SECRET]);
    setSecretFetcher(fake.fetcher);
    const first = await Promise.all([jwtSecret(ssm()), jwtSecret(ssm()), jwtSecret(ssm())]);
    expect(first).toEqual([SECRET, SECRET, SECRET]);
    await expect(jwtSecret(ssm())).resolves.toBe(SECRET);
    expect(fake.calls).toEqual([{ name: '/cashbook/prod/jwt-secret', region: 'eu-west-1' }]);
  });

  it('does not cache a failure: the next call asks again', async () => {
    const fake = fakeFetcher([new Error('ThrottlingException'), SECRET]);
    setSecretFetcher(fake.fetcher);
    await expect(jwtSecret(ssm())).rejects.toThrow(DependencyUnavailable);
    await expect(jwtSecret(ssm())).resolves.toBe(SECRET);
    expect(fake.calls).toHaveLength(2);
  });

  it('turns an SSM failure into 503 with Retry-After naming the dependency, the cause kept for the log', async () => {
    const cause = Object.assign(new Error('connect ETIMEDOUT 10.0.0.1:443'), { code: 'ETIMEDOUT' });
    setSecretFetcher(fakeFetcher([cause]).fetcher);
    const err = (await jwtSecret(ssm()).catch((e: unknown) => e)) as DependencyUnavailable;
    expect(err).toBeInstanceOf(DependencyUnavailable);
    expect(err.cause).toBe(cause);
    const response = errorResponse(err);
    expect(response.statusCode).toBe(503);
    expect(response.headers).toMatchObject({ 'Retry-After': '2' });
    expect(JSON.parse(response.body!)).toEqual({
      detail: 'A service this request needs is unavailable. Please retry shortly.',
      code: 'dependency_unavailable',
      dependency: 'ssm',
    });
    expect(response.body).not.toContain('ETIMEDOUT');
  });

  it('refuses a value shorter than 32 characters, naming the parameter but not the value', async () => {
    setSecretFetcher(fakeFetcher(['short-secret-value']).fetcher);
    const err = await jwtSecret(ssm()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as Error).message).toContain('/cashbook/prod/jwt-secret');
    expect((err as Error).message).not.toContain('short-secret-value');
  });

  describe('with the real @aws-sdk/client-ssm against a local SSM endpoint', () => {
    const VARS = ['AWS_ENDPOINT_URL_SSM', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN'] as const;
    const saved = Object.fromEntries(VARS.map((v) => [v, process.env[v]]));
    let server: Server | undefined;

    afterEach(async () => {
      for (const v of VARS) {
        if (saved[v] === undefined) delete process.env[v];
        else process.env[v] = saved[v];
      }
      await new Promise((r) => (server ? server.close(r) : r(undefined)));
    });

    it('sends GetParameter with decryption, signed, and returns the decrypted value', async () => {
      const requests: Array<{ headers: IncomingHttpHeaders; body: unknown }> = [];
      server = createServer((req, res) => {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          requests.push({ headers: req.headers, body: JSON.parse(body) });
          res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify({ Parameter: { Name: '/cashbook/prod/jwt-secret', Type: 'SecureString', Value: SECRET, Version: 3 } }));
        });
      });
      await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
      // The SDK reads its endpoint and credentials itself; no AWS account or network needed.
      process.env.AWS_ENDPOINT_URL_SSM = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      process.env.AWS_ACCESS_KEY_ID = 'AKIAFAKEUNITTEST0002';
      process.env.AWS_SECRET_ACCESS_KEY = 'fakeSecretKeyForUnitTestsOnly0123456789ab';
      delete process.env.AWS_SESSION_TOKEN;
      setSecretFetcher(undefined);

      await expect(jwtSecret(ssm())).resolves.toBe(SECRET);

      expect(requests).toHaveLength(1);
      expect(requests[0]!.headers['x-amz-target']).toBe('AmazonSSM.GetParameter');
      expect(requests[0]!.headers.authorization).toContain('AKIAFAKEUNITTEST0002/');
      expect(requests[0]!.headers.authorization).toContain('/eu-west-1/ssm/aws4_request');
      expect(requests[0]!.body).toEqual({ Name: '/cashbook/prod/jwt-secret', WithDecryption: true });
    });
  });
});
