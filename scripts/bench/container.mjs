// One simulated Lambda container: its own module state (a worker thread), invoking the
// bundled handlers one request at a time, as Lambda does. Plain JS: runs without a loader.
import { randomUUID } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';

const { bundles, scenario, token, username, password, counter, timeoutMs } = workerData;
const completed = new Int32Array(counter);

// The handlers log one JSON line per invocation (Powertools writes it to stdout); read the
// connection figures from it and print nothing.
let lastLine;
const capture = (chunk) => {
  const text = String(chunk);
  if (text.includes('"db":')) lastLine = text;
  return true;
};
process.stdout.write = capture;
process.stderr.write = capture;
console.log = capture;

const needed = scenario === 'mixed' ? ['list', 'create'] : [scenario];
const handlers = {};
for (const name of needed) handlers[name] = (await import(bundles[name])).handler;

// Cold start done: wait for the common start signal so loading time is not measured.
const stopAt = await new Promise((resolve) => {
  parentPort.once('message', (msg) => resolve(msg.stopAt));
  parentPort.postMessage({ ready: true });
});

function event(method, path, body, auth = true) {
  const headers = { host: 'bench.local', 'x-forwarded-proto': 'http', 'content-type': 'application/json' };
  if (auth) headers.authorization = `Bearer ${token}`;
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString: '',
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { http: { method, path }, requestId: randomUUID(), routeKey: `${method} ${path}` },
  };
}

function context() {
  const deadline = Date.now() + timeoutMs;
  return {
    awsRequestId: randomUUID(),
    functionName: 'bench',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function pick() {
  if (scenario === 'list') return ['list', event('GET', '/api/transactions/')];
  if (scenario === 'create') return ['create', event('POST', '/api/transactions/', { type: 'expense', amount: '12.34', category: 'bench' })];
  if (scenario === 'login') return ['login', event('POST', '/api/token/', { username, password }, false)];
  return Math.random() < 0.8
    ? ['list', event('GET', '/api/transactions/')]
    : ['create', event('POST', '/api/transactions/', { type: 'income', amount: '1.00', category: 'bench' })];
}

const latencies = [];
const statuses = {};
let connectAttempts = 0;
let connectMs = 0;
let heldMs = 0;
let logged = 0;
const causes = {};

while (Date.now() < stopAt) {
  const [name, ev] = pick();
  lastLine = undefined;
  const started = performance.now();
  let status;
  try {
    status = (await handlers[name](ev, context())).statusCode;
  } catch {
    status = 'thrown';
  }
  latencies.push(performance.now() - started);
  statuses[status] = (statuses[status] ?? 0) + 1;
  if (lastLine) {
    try {
      const { db, failure } = JSON.parse(lastLine);
      if (failure) causes[failure.cause ?? failure.name] = (causes[failure.cause ?? failure.name] ?? 0) + 1;
      connectAttempts += db.connectAttempts;
      connectMs += db.connectMs;
      heldMs += db.heldMs;
      logged++;
    } catch {
      // not the invocation line
    }
  }
  Atomics.add(completed, 0, 1);
}

parentPort.postMessage({ latencies, statuses, connectAttempts, connectMs, heldMs, logged, causes });
