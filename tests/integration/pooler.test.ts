import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startPgBouncer, type PgBouncer } from '../../scripts/lib/pgbouncer.js';
import { getConfig, type DatabaseConfig } from '../../lib/config.js';
import { newStats, withConnection } from '../../lib/db.js';
import { api } from '../../lib/http/api.js';
import { describeWith } from '../support/components.js';
import { adminQuery, expectNoAppConnections } from '../support/db.js';
import { invoke } from '../support/events.js';
import { startProxyFront, type ProxyFront } from '../support/proxy-front.js';

// What a pooler between the functions and PostgreSQL does to a request: RDS Proxy drops
// CancelRequests and answers "no connection for you" in its own words; PgBouncer (transaction
// pooling, the local stand-in) refuses past max_client_conn and gives up on a queued client
// after query_wait_timeout. Each must end as a timely 504 or a 503 with Retry-After, never a 500.

describe('behind a proxy that does not forward CancelRequest (RDS Proxy)', () => {
  let front: ProxyFront;
  let db: DatabaseConfig;

  beforeAll(async () => {
    const direct = getConfig().db;
    front = await startProxyFront({ host: direct.host, port: direct.port });
    db = { ...direct, host: '127.0.0.1', port: front.port };
  });
  afterAll(async () => {
    await front.close();
    await expectNoAppConnections();
  });

  it('still ends the request within its deadline on an early timeout, and the backend goes away', async () => {
    const sleepy = api({ auth: false }, (req) => withConnection((c) => c.query('SELECT pg_sleep(5) /* uncancelled */'), { ...req.connection, db }));
    const started = Date.now();
    // 4 s left, TIMEOUT_EARLY_MS = 1000: aborted at ~3 s, during pg_sleep(5).
    const res = await invoke(sleepy, { path: '/sleepy' }, 4_000);
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(4_000);
    // The cancel goes out on its own socket as the request ends: wait for it to arrive.
    await vi.waitFor(() => expect(front.cancelsDropped).toBeGreaterThanOrEqual(1), { timeout: 1_000 });
    // The closed socket ends the backend (the role's client_connection_check_interval).
    await expectNoAppConnections(2_500);
    expect(await adminQuery("SELECT 1 FROM pg_stat_activity WHERE query LIKE '%/* uncancelled */%' AND pid <> pg_backend_pid()")).toEqual([]);
  });

  it("answers 503 with Retry-After when the proxy's borrow times out, after retrying until the deadline", async () => {
    front.refuseWith = 'Timed-out waiting to acquire database connection.';
    const stats = newStats();
    const handler = api({ auth: false }, (req) => withConnection((c) => c.query('SELECT 1'), { ...req.connection, db, stats }));
    try {
      const started = Date.now();
      const res = await invoke(handler, { path: '/busy' }, 3_000);
      expect(res.status).toBe(503);
      expect(res.headers['Retry-After']).toBe('1');
      expect(res.body.code).toBe('database_unavailable');
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(stats.connectAttempts).toBeGreaterThan(1);
    } finally {
      front.refuseWith = undefined;
    }
  });
});

describeWith(['pgbouncer'], 'behind PgBouncer with a full pool', () => {
  // Its own PgBouncer (pool 1, 2 clients at most, 1 s queue wait) in front of its own role, so
  // the suite's PgBouncer (TEST_POOLER) and the app role's 2 connections are left alone.
  const role = 'cashbook_pooler_test';
  const password = 'pooler-test-password';
  let dir: string;
  let bouncer: PgBouncer;
  let db: DatabaseConfig;
  let holders: pg.Client[] = [];

  beforeAll(async () => {
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    await adminQuery(`CREATE ROLE ${role} LOGIN PASSWORD '${password}' CONNECTION LIMIT 1`);
    const direct = getConfig().db;
    const [{ port } = { port: '' }] = await adminQuery<{ port: string }>("SELECT current_setting('port') AS port");
    dir = mkdtempSync(join(tmpdir(), 'cashbook-pooler-'));
    const serverUrl = `postgres://${role}:${password}@127.0.0.1:${port}/${direct.database}`;
    bouncer = await startPgBouncer({ dir, serverUrl, poolSize: 1, maxClientConnections: 2, queryWaitTimeoutSeconds: 1 });
    db = { ...direct, host: '127.0.0.1', port: bouncer.port, user: role, password };
  });
  afterAll(async () => {
    await Promise.all(holders.map((c) => c.end().catch(() => undefined)));
    await bouncer?.stop();
    rmSync(dir, { recursive: true, force: true });
    await adminQuery(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, [role]);
    await adminQuery(`DROP ROLE IF EXISTS ${role}`);
    await expectNoAppConnections();
  });

  async function holder(inTransaction: boolean): Promise<pg.Client> {
    const client = new pg.Client({ host: '127.0.0.1', port: bouncer.port, database: db.database, user: role, password });
    client.on('error', () => {});
    await client.connect();
    if (inTransaction) await client.query('BEGIN; SELECT 1');
    holders.push(client);
    return client;
  }
  async function release(): Promise<void> {
    await Promise.all(holders.map((c) => c.end().catch(() => undefined)));
    holders = [];
  }

  it('answers 503 with Retry-After when the queued query hits query_wait_timeout', async () => {
    await holder(true); // the pool's only server connection, held in a transaction
    const stats = newStats();
    const handler = api({ auth: false }, (req) => withConnection((c) => c.query('SELECT 1'), { ...req.connection, db, stats }));
    const res = await invoke(handler, { path: '/queued' }, 5_000);
    await release();
    expect(res.status).toBe(503);
    expect(res.headers['Retry-After']).toBe('1');
    expect(res.body.code).toBe('database_unavailable');
  });

  it("retries PgBouncer's max_client_conn refusal and gets through once a client leaves", async () => {
    await holder(false);
    await holder(false); // max_client_conn = 2 reached
    const stats = newStats();
    const handler = api({ auth: false }, (req) =>
      withConnection(async (c) => (await c.query<{ one: number }>('SELECT 1 AS one')).rows[0], { ...req.connection, db, stats }),
    );
    // Let a client go once the first attempt has been refused (the second one has started).
    const pending = invoke(handler, { path: '/refused-then-served' }, 5_000);
    await vi.waitFor(() => expect(stats.connectAttempts).toBeGreaterThanOrEqual(2), { timeout: 3_000, interval: 5 });
    await release();
    const res = await pending;
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ one: 1 });
    expect(stats.connectAttempts).toBeGreaterThan(1);
  });

  it('answers 503 with Retry-After while max_client_conn stays full', async () => {
    await holder(false);
    await holder(false);
    const handler = api({ auth: false }, (req) => withConnection((c) => c.query('SELECT 1'), { ...req.connection, db }));
    const res = await invoke(handler, { path: '/refused' }, 3_000);
    await release();
    expect(res.status).toBe(503);
    expect(res.headers['Retry-After']).toBe('1');
  });
});
