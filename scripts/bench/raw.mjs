// The physical limit: a worker looping connect -> SELECT 1 -> close with bare pg, no retries
// needed because there are only as many workers as the role may hold connections.
import pg from 'pg';
import { parentPort, workerData } from 'node:worker_threads';

const { url, counter } = workerData;
const stopAt = await new Promise((resolve) => {
  parentPort.once('message', (msg) => resolve(msg.stopAt));
  parentPort.postMessage({ ready: true });
});
const completed = new Int32Array(counter);
let ok = 0;
let failed = 0;
const latencies = [];
while (Date.now() < stopAt) {
  const started = performance.now();
  const client = new pg.Client({ connectionString: url, application_name: 'bench-raw' });
  try {
    await client.connect();
    await client.query('SELECT 1');
    ok++;
  } catch {
    failed++;
  } finally {
    await client.end().catch(() => {});
  }
  latencies.push(performance.now() - started);
  Atomics.add(completed, 0, 1);
}
parentPort.postMessage({ ok, failed, latencies });
