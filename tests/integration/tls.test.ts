import { Logger } from '@aws-lambda-powertools/logger';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { DatabaseConfig } from '../../lib/config.js';
import { newStats, withConnection } from '../../lib/db.js';
import { DatabaseUnavailable } from '../../lib/errors.js';
import { logInvocation } from '../../lib/http/log.js';
import { errorResponse } from '../../lib/http/responses.js';
import { setSignerFactory } from '../../lib/iam-token.js';
import { appConnections } from '../../scripts/lib/database-setup.js';
import { APP_DATABASE, APP_ROLE, startLocalDatabase, type LocalDatabase } from '../../scripts/lib/local-database.js';
import { makeTestPki, type TestPki } from '../support/tls.js';

// TLS as in production (DB_SSL=verify-full, DB_SSL_CA): a real PostgreSQL with ssl=on and a
// certificate from a CA made for this test. Trusting that CA connects; trusting another CA or
// reaching the server under a name its certificate does not carry is refused at once, never
// retried, and answers a clean 503.

let dir: string;
let pki: TestPki;
let local: LocalDatabase;
const appPassword = randomBytes(12).toString('hex');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cashbook-tls-'));
  pki = makeTestPki(join(dir, 'pki'), ['localhost']);
  local = await startLocalDatabase({
    dataDir: join(dir, 'pg'),
    persistent: false,
    connectionLimit: 2,
    adminPassword: randomBytes(12).toString('hex'),
    appPassword,
    flags: ['-c', 'ssl=on', '-c', `ssl_cert_file=${pki.certFile}`, '-c', `ssl_key_file=${pki.keyFile}`],
  });
});

afterAll(async () => {
  await local?.server.stop();
  rmSync(dir, { recursive: true, force: true });
});

afterEach(async () => {
  setSignerFactory(undefined);
  // Nothing left open on the TLS server either.
  const until = Date.now() + 2_000;
  while ((await appConnections(local.adminUrl, APP_ROLE)) > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 25));
  }
  expect(await appConnections(local.adminUrl, APP_ROLE)).toBe(0);
});

const db = (overrides: Partial<DatabaseConfig> = {}): DatabaseConfig => ({
  host: 'localhost',
  port: local.server.port,
  database: APP_DATABASE,
  user: APP_ROLE,
  password: appPassword,
  auth: 'password',
  region: undefined,
  ssl: 'verify-full',
  sslCaFile: pki.caFile,
  connectTimeoutMs: 3_000,
  retryBaseMs: 5,
  retryMaxMs: 50,
  deadlineMarginMs: 300,
  applicationName: 'cashbook-tls-test',
  pooled: false,
  ...overrides,
});

const sslInUse = (cfg: DatabaseConfig) =>
  withConnection(
    async (c) => (await c.query<{ ssl: boolean }>('SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()')).rows[0]?.ssl,
    { db: cfg, deadline: Date.now() + 3_000 },
  );

async function refusal(cfg: DatabaseConfig) {
  const stats = newStats();
  const err = await withConnection((c) => c.query('SELECT 1'), { db: cfg, stats, deadline: Date.now() + 3_000 }).catch(
    (e: unknown) => e,
  );
  return { err, stats };
}

describe('TLS to PostgreSQL (DB_SSL=verify-full)', () => {
  it('connects when the server certificate chains to DB_SSL_CA and names the host', async () => {
    await expect(sslInUse(db())).resolves.toBe(true);
  });

  it('refuses a server whose certificate another CA signed: one attempt, 503, no internals', async () => {
    const { err, stats } = await refusal(db({ sslCaFile: pki.otherCaFile }));
    expect(err).toBeInstanceOf(DatabaseUnavailable);
    expect((err as Error).cause).toMatchObject({ code: expect.stringMatching(/CERT|SIGNATURE|ISSUER/) });
    expect(stats.connectAttempts).toBe(1);
    const response = errorResponse(err);
    expect(response.statusCode).toBe(503);
    expect(JSON.parse(response.body as string)).toEqual({
      detail: 'The database is busy or unavailable. Please retry shortly.',
      code: 'database_unavailable',
    });
    expect(response.headers).toMatchObject({ 'Retry-After': '1' });
  });

  it('refuses a certificate that does not name the host it was reached by, without retrying', async () => {
    const { err, stats } = await refusal(db({ host: '127.0.0.1' }));
    expect(err).toBeInstanceOf(DatabaseUnavailable);
    expect((err as Error).cause).toMatchObject({ code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
    expect(stats.connectAttempts).toBe(1);
  });

  it('does not trust the public CAs alone: without DB_SSL_CA the test CA is unknown', async () => {
    const { err, stats } = await refusal(db({ sslCaFile: undefined }));
    expect(err).toBeInstanceOf(DatabaseUnavailable);
    expect(stats.connectAttempts).toBe(1);
  });

  it('encrypts without verifying with DB_SSL=require', async () => {
    await expect(sslInUse(db({ ssl: 'require', sslCaFile: pki.otherCaFile }))).resolves.toBe(true);
  });

  it('authenticates with an IAM token as the password over verified TLS (DB_AUTH=iam)', async () => {
    const asked: Array<{ host: string; port: number; user: string; region: string | undefined }> = [];
    // RDS would check the token's signature; here the role's password stands in for the token.
    setSignerFactory(async (cfg) => ({
      getAuthToken: async () => {
        asked.push({ host: cfg.host, port: cfg.port, user: cfg.user, region: cfg.region });
        return appPassword;
      },
    }));
    const cfg = db({ auth: 'iam', password: undefined, region: 'eu-west-1' });
    await expect(sslInUse(cfg)).resolves.toBe(true);
    await expect(sslInUse(cfg)).resolves.toBe(true);
    // One token per container, reused by the second connection.
    expect(asked).toEqual([{ host: 'localhost', port: local.server.port, user: APP_ROLE, region: 'eu-west-1' }]);
  });

  it('never retries or logs a rejected IAM token (28P01)', async () => {
    const token = `localhost:${local.server.port}/?Action=connect&DBUser=${APP_ROLE}&X-Amz-Signature=deadbeef`;
    setSignerFactory(async () => ({ getAuthToken: async () => token }));
    const { err, stats } = await refusal(db({ auth: 'iam', password: undefined, region: 'eu-west-1' }));
    expect(err).toBeInstanceOf(DatabaseUnavailable);
    expect((err as Error).cause).toMatchObject({ code: '28P01' });
    expect(stats.connectAttempts).toBe(1);
    // Powertools writes INFO to stdout and ERROR to stderr.
    const writes: string[] = [];
    const spies = [process.stdout, process.stderr].map((stream) =>
      vi.spyOn(stream, 'write').mockImplementation((chunk: unknown) => {
        writes.push(String(chunk));
        return true;
      }),
    );
    try {
      const logger = new Logger({ serviceName: 'test', logLevel: 'INFO' });
      logInvocation({ event: { routeKey: 'GET /api/health' }, context: { stats }, response: errorResponse(err), error: err }, logger);
      const line = writes.join('\n');
      expect(line).toContain('database_unavailable');
      expect(line).not.toContain('X-Amz-Signature');
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});
