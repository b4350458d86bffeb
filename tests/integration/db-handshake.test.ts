import { getEventListeners } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { getConfig } from '../../lib/config.js';
import { withConnection } from '../../lib/db.js';
import { RequestTimeout } from '../../lib/errors.js';
import { expectNoAppConnections } from '../support/db.js';

// A server that accepts TCP connections and never says a word: the startup (or SSLRequest)
// message goes unanswered, so the client is stuck in the handshake when the signal aborts.

let server: Server | undefined;
const sockets = new Set<Socket>();
let closedSockets = 0;

async function silentServer(): Promise<number> {
  server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      closedSockets++;
    });
    socket.on('error', () => {});
    socket.resume(); // reads (and ignores) the startup message, so the client's FIN is seen
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as { port: number }).port;
}

afterAll(() => expectNoAppConnections());

afterEach(async () => {
  for (const s of sockets) s.destroy();
  if (server) await new Promise((resolve) => server!.close(resolve));
  server = undefined;
  closedSockets = 0;
});

async function settlesAfterAbort(ssl: 'disable' | 'require') {
  const port = await silentServer();
  const db = { ...getConfig().db, host: '127.0.0.1', port, ssl, connectTimeoutMs: 20_000 };
  const controller = new AbortController();
  const pending = withConnection((c) => c.query('SELECT 1'), { db, signal: controller.signal, deadline: Date.now() + 20_000 });
  const outcome = pending.then(
    () => 'resolved',
    (err: unknown) => err,
  );
  while (sockets.size === 0) await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, 100));
  const abortedAt = performance.now();
  controller.abort();
  const result = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('still pending'), 2_000))]);
  expect(result).toBeInstanceOf(RequestTimeout);
  expect(performance.now() - abortedAt).toBeLessThan(500);
  // The socket does not outlive the abort either (closeClient destroys it within a second).
  const until = Date.now() + 3_000;
  while (closedSockets === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  expect(closedSockets).toBe(1);
}

describe('withConnection aborted during the handshake', () => {
  it('settles with RequestTimeout when the server accepts and never answers (plain TCP)', () => settlesAfterAbort('disable'));

  it('settles with RequestTimeout while waiting for the SSLRequest answer (TLS)', () => settlesAfterAbort('require'));

  it('settles at once when the signal is already aborted', async () => {
    const port = await silentServer();
    const db = { ...getConfig().db, host: '127.0.0.1', port, connectTimeoutMs: 20_000 };
    const controller = new AbortController();
    controller.abort();
    await expect(withConnection((c) => c.query('SELECT 1'), { db, signal: controller.signal })).rejects.toBeInstanceOf(RequestTimeout);
  });
});

describe('abort listeners', () => {
  it('removes every listener it adds, across connect retries and the query', async () => {
    const port = await silentServer();
    await new Promise((resolve) => server!.close(resolve)); // nothing listens: ECONNREFUSED, retried
    server = undefined;
    const controller = new AbortController();
    const db = { ...getConfig().db, host: '127.0.0.1', port, retryBaseMs: 1, retryMaxMs: 5 };
    const seen: number[] = [];
    const sampler = setInterval(() => seen.push(getEventListeners(controller.signal, 'abort').length), 1);
    const stats = { connectAttempts: 0, connectMs: 0, heldMs: 0 };
    await expect(
      withConnection((c) => c.query('SELECT 1'), { db, signal: controller.signal, deadline: Date.now() + 300, stats }),
    ).rejects.toThrow();
    clearInterval(sampler);
    expect(stats.connectAttempts).toBeGreaterThan(3);
    expect(Math.max(0, ...seen)).toBeLessThanOrEqual(2);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // The real database: connect + query + close leave nothing on the signal either.
    await withConnection((c) => c.query('SELECT 1'), { signal: controller.signal });
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });
});
