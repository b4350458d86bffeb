import { createServer, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, expect, it, vi } from 'vitest';

// An S3 that accepts connections and never answers (a VPC without a route to S3 behaves alike):
// the client gives up after its own timeouts with a 503 naming the storage, long before the
// invocation's deadline — the SDK's HTTP handler has no timeout of its own.

const sockets: Socket[] = [];
const silent = createServer((socket) => sockets.push(socket));
const endpoint = process.env.ATTACHMENT_S3_ENDPOINT;
afterAll(async () => {
  process.env.ATTACHMENT_S3_ENDPOINT = endpoint;
  for (const s of sockets) s.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it('answers 503 (storage) when S3 never answers, within its request timeouts', async () => {
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  process.env.ATTACHMENT_S3_ENDPOINT = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  vi.resetModules(); // a fresh config and S3 client, with this endpoint
  const { headObject } = await import('../../lib/storage.js');
  const started = Date.now();
  await expect(headObject('attachments/never')).rejects.toMatchObject({ status: 503, dependency: 'storage' });
  // Two attempts of at most 5 s each, far inside the functions' 27 s before their early timeout.
  expect(Date.now() - started).toBeLessThan(15_000);
  expect(sockets.length).toBeGreaterThan(0);
}, 30_000);
