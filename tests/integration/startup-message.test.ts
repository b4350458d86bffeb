import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { DatabaseConfig } from '../../lib/config.js';
import { withConnection } from '../../lib/db.js';
import { setSignerFactory } from '../../lib/iam-token.js';

// RDS Proxy (and PgBouncer) compatibility, on the wire: a fake server records the StartupMessage
// lib/db.ts's client sends. Startup `options` and session settings sent as startup parameters
// (statement_timeout, lock_timeout, ...) pin an RDS Proxy session or are refused by it; the
// server-side limits live on the role instead (ALTER ROLE ... SET, see scripts/lib/database-setup.ts).

const ALLOWED = ['user', 'database', 'application_name', 'client_encoding'];

function parseStartup(message: Buffer): { protocol: number; params: Record<string, string> } {
  const protocol = message.readInt32BE(4);
  const parts = message.subarray(8, message.length - 1).toString('utf8').split('\0');
  const params: Record<string, string> = {};
  for (let i = 0; i + 1 < parts.length; i += 2) params[parts[i]!] = parts[i + 1]!;
  return { protocol, params };
}

let server: Server | undefined;

/** Listens, keeps the first StartupMessage, then hangs up (the client's connect fails). */
async function fakeServer(): Promise<{ port: number; startups: Buffer[] }> {
  const startups: Buffer[] = [];
  server = createServer((socket: Socket) => {
    let buffered = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length >= 4 && buffered.length >= buffered.readInt32BE(0)) {
        startups.push(buffered.subarray(0, buffered.readInt32BE(0)));
        socket.destroy();
      }
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { port: (server!.address() as AddressInfo).port, startups };
}

afterEach(async () => {
  setSignerFactory(undefined);
  await new Promise((r) => (server ? server.close(r) : r(undefined)));
  server = undefined;
});

const db = (port: number, overrides: Partial<DatabaseConfig> = {}): DatabaseConfig => ({
  host: '127.0.0.1',
  port,
  database: 'cashbook',
  user: 'cashbook_app',
  password: 'pw',
  auth: 'password',
  region: undefined,
  ssl: 'disable',
  sslCaFile: undefined,
  connectTimeoutMs: 500,
  retryBaseMs: 5,
  retryMaxMs: 20,
  deadlineMarginMs: 0,
  applicationName: 'cashbook-prod-listTransactions',
  pooled: false,
  ...overrides,
});

describe.each([
  ['password auth', {}],
  ['IAM auth (as through RDS Proxy)', { auth: 'iam' as const, password: undefined, region: 'eu-west-1' }],
])('the StartupMessage with %s', (_, overrides) => {
  it('carries only user, database, application_name and client_encoding: no options, no timeouts', async () => {
    setSignerFactory(async () => ({ getAuthToken: async () => 'token' }));
    const { port, startups } = await fakeServer();
    await withConnection((c) => c.query('SELECT 1'), { db: db(port, overrides), deadline: Date.now() + 300 }).catch(() => undefined);
    expect(startups.length).toBeGreaterThanOrEqual(1);
    const { protocol, params } = parseStartup(startups[0]!);
    expect(protocol).toBe(196608); // protocol 3.0, not an SSLRequest or CancelRequest
    expect(params).toMatchObject({ user: 'cashbook_app', database: 'cashbook', application_name: 'cashbook-prod-listTransactions' });
    expect(Object.keys(params).filter((k) => !ALLOWED.includes(k))).toEqual([]);
    for (const forbidden of ['options', 'statement_timeout', 'lock_timeout', 'idle_in_transaction_session_timeout', 'search_path']) {
      expect(params).not.toHaveProperty(forbidden);
    }
  });
});
