import { request as forward, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { handler as complete } from '../../../functions/complete-attachment.js';
import { handler as create } from '../../../functions/create-attachment.js';
import { handler as createTransaction } from '../../../functions/create-transaction.js';
import { handler as remove } from '../../../functions/delete-attachment.js';
import { handler as list } from '../../../functions/list-attachments.js';
import { poolerActivity } from '../../../scripts/lib/pgbouncer.js';
import { signUp } from '../../support/accounts.js';
import { adminQuery, expectNoAppConnections, resetData } from '../../support/db.js';
import { invoke, lambdaContext } from '../../support/events.js';

// S3 calls never run while a connection is held. The functions here talk to S3 through a slow
// stand-in in front of the run's s3rver: every request waits there, and while it waits the
// stand-in counts the application role's connections. Any count above zero is an S3 call made
// with a connection open.

const DELAY_MS = 150;
const seen: Array<{ method: string; connections: number }> = [];

// lib/config.ts reads ATTACHMENT_S3_ENDPOINT once, when the first handler module loads: the
// stand-in must listen, and the variable point at it, before the imports above run.
const { proxy, route } = await vi.hoisted(async () => {
  const { createServer } = await import('node:http');
  let handle: (req: IncomingMessage, res: ServerResponse) => void = () => {};
  const server = createServer((req, res) => handle(req, res));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  process.env.ATTACHMENT_S3_ENDPOINT = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { proxy: server as Server, route: (fn: typeof handle) => (handle = fn) };
});

/** The application's connections: its backends, or through PgBouncer its client connections and busy server ones. */
async function appConnections(): Promise<number> {
  const pooler = inject('pooler');
  if (pooler) {
    const activity = await poolerActivity(pooler.consoleUrl, pooler.database);
    return activity.clients + activity.activeServers;
  }
  const rows = await adminQuery<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [inject('appRole')]);
  return rows[0]!.n;
}

function slowS3(target: string): void {
  route((req, res) => {
    void (async () => {
      // A connection closed just before the call needs a moment for its backend to exit.
      await new Promise((r) => setTimeout(r, DELAY_MS));
      seen.push({ method: req.method!, connections: await appConnections() });
      const url = new URL(req.url!, target);
      const upstream = forward(url, { method: req.method, headers: { ...req.headers, host: url.host } }, (reply) => {
        res.writeHead(reply.statusCode!, reply.headers);
        reply.pipe(res);
      });
      req.pipe(upstream);
    })();
  });
}

type Handler = (event: unknown, context: unknown) => Promise<unknown>;
const handlers = { create, complete, list, remove: remove as Handler, createTransaction };

describe('receipts: no connection is held during an S3 call', () => {
  beforeAll(async () => {
    slowS3(inject('s3').endpoint);
    await resetData();
  });
  afterAll(async () => {
    await new Promise((r) => proxy.close(r));
    await expectNoAppConnections();
  });

  it('completes, refuses, deletes and sweeps with S3 calls made outside every connection', async () => {
    const alice = await signUp('alice');
    const tx = await invoke(handlers.createTransaction, { method: 'POST', path: '/api/transactions/', token: alice.access, body: { type: 'expense', amount: '1.00' } });
    const entry = tx.body.id as string;
    const on = (path: string, id: string, method = 'POST', body?: object) => ({ method, path, pathParameters: { id }, token: alice.access, ...(body ? { body } : {}) });
    const bytes = Buffer.from('%PDF-1.4 receipt');

    const good = await invoke(handlers.create, on(`/api/transactions/${entry}/attachments/`, entry, 'POST', { filename: 'r.pdf', content_type: 'application/pdf', size: bytes.length }));
    const form = new FormData();
    for (const [k, v] of Object.entries(good.body.upload.fields as Record<string, string>)) form.append(k, v);
    form.append('file', new Blob([bytes], { type: 'application/pdf' }));
    expect((await fetch(good.body.upload.url, { method: 'POST', body: form })).ok).toBe(true);
    expect((await invoke(handlers.complete, on(`/api/attachments/${good.body.id}/complete/`, good.body.id))).status).toBe(200);
    expect((await invoke(handlers.list, on(`/api/transactions/${entry}/attachments/`, entry, 'GET'))).status).toBe(200);

    // Declared 1 byte, uploaded more: /complete/ deletes the object after its statement.
    const bad = await invoke(handlers.create, on(`/api/transactions/${entry}/attachments/`, entry, 'POST', { filename: 'b.pdf', content_type: 'application/pdf', size: 1 }));
    const badForm = new FormData();
    for (const [k, v] of Object.entries(bad.body.upload.fields as Record<string, string>)) badForm.append(k, v);
    badForm.append('file', new Blob([bytes], { type: 'application/pdf' }));
    await fetch(bad.body.upload.url, { method: 'POST', body: badForm });
    expect((await invoke(handlers.complete, on(`/api/attachments/${bad.body.id}/complete/`, bad.body.id))).status).toBe(409);

    expect((await invoke(handlers.remove, on(`/api/attachments/${good.body.id}/`, good.body.id, 'DELETE'))).status).toBe(204);
    // The sweep deletes keys queued at least 20 minutes ago (their uploads have expired).
    await adminQuery("UPDATE attachment_deletions SET queued_at = now() - interval '21 minutes'");
    await handlers.remove({ source: 'aws.events', 'detail-type': 'Scheduled Event' }, lambdaContext());

    const methods = seen.map((s) => s.method);
    // The uploads (POST), /complete/'s HEADs, and the deletes (the refused object, the deleted one, the sweep's).
    expect(methods.filter((m) => m === 'HEAD')).toHaveLength(2);
    expect(methods.filter((m) => m === 'DELETE').length).toBeGreaterThanOrEqual(3);
    expect(seen.filter((s) => s.connections > 0)).toEqual([]);
  });
});
