import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ROLE, startLocalDatabase, type LocalDatabase } from '../../scripts/lib/local-database.js';
import { adminQuery, expectNoAppConnections, useDatabase } from '../support/db.js';
import { invoke } from '../support/events.js';

// Fault injection on a PostgreSQL of this file's own (so it can be killed and restarted):
// backends terminated mid-request, the server stopped, the server restarted mid-run.

type Handler = unknown;
let local: LocalDatabase;
let dir: string;
let create: Handler;
let list: Handler;
let health: Handler;
let token = '';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cashbook-faults-'));
    local = await startLocalDatabase({
      dataDir: join(dir, 'pg'),
      persistent: true,
      connectionLimit: 2,
      adminPassword: randomBytes(8).toString('hex'),
      appPassword: randomBytes(8).toString('hex'),
    });
    useDatabase({ adminUrl: local.adminUrl, appRole: APP_ROLE });
    // The handlers read their configuration at cold start: point them here before loading them.
    process.env.DATABASE_URL = local.appUrl;
    create = (await import('../../functions/create-transaction.js')).handler;
    list = (await import('../../functions/list-transactions.js')).handler;
    health = (await import('../../functions/get-health.js')).handler;
    const { signUp } = await import('../support/accounts.js');
    ({ access: token } = await signUp('faults'));
  });

  afterAll(async () => {
    await expectNoAppConnections();
    useDatabase(undefined);
    await local?.server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('survives pg_terminate_backend during writes: every answer is 201 or a clean 503, no phantom rows', async () => {
    let killing = true;
    let killed = 0;
    const killer = (async () => {
      while (killing) {
        const rows = await adminQuery<{ ok: boolean }>(
          'SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE usename = $1',
          [APP_ROLE],
        );
        killed += rows.filter((r) => r.ok).length;
        await sleep(3);
      }
    })();
    const replies: Array<{ res: Awaited<ReturnType<typeof invoke>>; amount: string }> = [];
    await Promise.all(
      Array.from({ length: 4 }, async (_, worker) => {
        for (let i = 0; i < 8; i++) {
          const amount = `${worker * 100 + i + 1}.00`;
          const res = await invoke(create, { method: 'POST', path: '/api/transactions/', token, body: { type: 'income', amount } });
          replies.push({ res, amount });
        }
      }),
    );
    killing = false;
    await killer;
    expect(killed).toBeGreaterThan(0);
    for (const { res } of replies) {
      expect([201, 503]).toContain(res.status);
      if (res.status === 503) {
        expect(res.body.code).toBe('database_unavailable');
        expect(res.headers['Retry-After']).toBeDefined();
      }
    }
    const ok = replies.filter((r) => r.res.status === 201);
    const rows = await adminQuery<{ id: string; amount: string }>('SELECT id, amount::text FROM transactions');
    const stored = new Map(rows.map((r) => [r.id, r.amount]));
    // Every acknowledged write is there, whole; nothing exists that was never attempted.
    for (const { res, amount } of ok) expect(stored.get(res.body.id)).toBe(amount);
    expect(rows.length).toBeGreaterThanOrEqual(ok.length);
    expect(rows.length).toBeLessThanOrEqual(replies.length);
    await expectNoAppConnections();
  });

  it('answers 503 with Retry-After within the deadline while the server is down, then recovers without a restart of the API', async () => {
    await local.server.stop();
    try {
      const started = Date.now();
      // 3 s left: early timeout at 2 s, connect retries stop at 1.2 s.
      const down = await invoke(health, { path: '/api/health/' }, 3_000);
      expect(down.status).toBe(503);
      expect(down.body).toEqual({ detail: expect.any(String), code: 'database_unavailable' });
      expect(down.headers['Retry-After']).toBe('1');
      expect(Date.now() - started).toBeLessThan(2_500);
    } finally {
      await local.server.start();
    }
    const up = await invoke(health, { path: '/api/health/' });
    expect(up.status).toBe(200);
    await expectNoAppConnections();
  });

  it('rides through a server restart in the middle of a run of requests', async () => {
    const statuses: number[] = [];
    const run = (async () => {
      const until = Date.now() + 4_000;
      while (Date.now() < until) {
        statuses.push((await invoke(list, { path: '/api/transactions/', token }, 3_000)).status);
      }
    })();
    await sleep(500);
    await local.server.stop();
    await sleep(300);
    await local.server.start();
    await run;
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.slice(-3)).toEqual([200, 200, 200]);
    await expectNoAppConnections();
  });
});
