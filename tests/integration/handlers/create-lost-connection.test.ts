import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, inject, vi } from 'vitest';
import { keptName } from '../../../lib/kept.js';
import { KEPT_CREATES } from '../../../lib/transactions/queries.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke } from '../../support/events.js';

// The connection dies after the INSERT committed, before its answer arrives: a TCP proxy
// between the function and PostgreSQL forwards everything, and once armed, cuts both sides as
// soon as the server has answered a statement that inserts into transactions (ReadyForQuery,
// idle: after the commit), without passing that answer on. Pooled (TEST_POOLER), the insert is
// a call of its kept function (lib/kept.ts).
const INSERTS = ['INSERT INTO transactions', ...KEPT_CREATES.texts().map(keptName)];

let proxy: Server;
let armed = false;
/** How the armed cut ends the client's side: a clean close, or a TCP RST (pg then reports ECONNRESET with an errno code). */
let cutWith: 'close' | 'reset' = 'close';
let cuts = 0;
const sockets = new Set<Socket>();

function startProxy(target: { host: string; port: number }): Promise<number> {
  proxy = createServer((client) => {
    const server = connect(target.port, target.host);
    sockets.add(client).add(server);
    let sawInsert = false;
    let answer = Buffer.alloc(0);
    const cut = () => {
      cuts++;
      if (cutWith === 'reset') client.resetAndDestroy();
      client.destroy();
      server.destroy();
    };
    client.on('data', (chunk: Buffer) => {
      if (armed && INSERTS.some((text) => chunk.includes(text))) sawInsert = true;
      server.write(chunk);
    });
    server.on('data', (chunk: Buffer) => {
      if (!sawInsert) return void client.write(chunk);
      answer = Buffer.concat([answer, chunk]);
      // ReadyForQuery (Z, length 5, status I): the implicit transaction has committed.
      if (answer.includes(Buffer.from([0x5a, 0, 0, 0, 5, 0x49]))) {
        armed = false;
        cut();
      }
    });
    for (const s of [client, server]) {
      s.on('error', () => {});
      s.on('close', () => {
        client.destroy();
        server.destroy();
      });
    }
  });
  return new Promise((resolve) => proxy.listen(0, '127.0.0.1', () => resolve((proxy.address() as { port: number }).port)));
}

let create: unknown;
let token = '';

describe('a create whose connection is lost after COMMIT', () => {
  beforeAll(async () => {
    await resetData();
    ({ access: token } = await signUp('lost'));
    const url = new URL(inject('appUrl'));
    const port = await startProxy({ host: url.hostname, port: Number(url.port) });
    url.hostname = '127.0.0.1';
    url.port = String(port);
    // A fresh module graph whose configuration points at the proxy.
    vi.resetModules();
    process.env.DATABASE_URL = url.toString();
    ({ handler: create } = await import('../../../functions/create-transaction.js'));
  });
  afterAll(async () => {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => proxy.close(resolve));
    await expectNoAppConnections();
  });

  it('answers 201 with the row the lost INSERT committed, found on a fresh connection (no duplicate on retry)', async () => {
    armed = true;
    const res = await invoke(create, { method: 'POST', path: '/api/transactions/', body: { type: 'expense', amount: '9.99', description: 'lost answer' }, token });
    expect(cuts).toBe(1);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ type: 'expense', amount: '9.99', description: 'lost answer' });
    const rows = await adminQuery<{ id: string }>("SELECT id FROM transactions WHERE description = 'lost answer'");
    expect(rows).toEqual([{ id: res.body.id }]);
  });

  it('still answers 201 the same way with an Idempotency-Key', async () => {
    armed = true;
    const res = await invoke(create, {
      method: 'POST',
      path: '/api/transactions/',
      body: { type: 'income', amount: '5.00', description: 'lost keyed answer' },
      headers: { 'idempotency-key': 'lost-1' },
      token,
    });
    expect(cuts).toBe(2);
    expect(res.status).toBe(201);
    const rows = await adminQuery<{ id: string }>("SELECT id FROM transactions WHERE description = 'lost keyed answer'");
    expect(rows).toEqual([{ id: res.body.id }]);
  });

  it('answers 201 the same way when the connection is reset (ECONNRESET, an errno code) rather than closed', async () => {
    armed = true;
    cutWith = 'reset';
    try {
      const res = await invoke(create, { method: 'POST', path: '/api/transactions/', body: { type: 'income', amount: '7.00', description: 'reset answer' }, token });
      expect(cuts).toBe(3);
      expect(res.status).toBe(201);
      const rows = await adminQuery<{ id: string }>("SELECT id FROM transactions WHERE description = 'reset answer'");
      expect(rows).toEqual([{ id: res.body.id }]);
    } finally {
      cutWith = 'close';
    }
  });

  it('creates normally through the proxy when nothing is cut', async () => {
    const res = await invoke(create, { method: 'POST', path: '/api/transactions/', body: { type: 'expense', amount: '1.00' }, token });
    expect(res.status).toBe(201);
  });
});
