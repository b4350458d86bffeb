// `npm run bench`: how close the one-connection-per-invocation design gets to the physical limit
// of a connection-limited database. A benchmark, not a test: it measures and reports.
//
//   BENCH_BUDGET=2 BENCH_CLIENTS=64 BENCH_SECONDS=20 BENCH_SCENARIOS=list,create,mixed,login \
//   BENCH_MODES=inprocess,http npm run bench
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import pg from 'pg';
import { appConnections } from './lib/database-setup.js';
import { APP_ROLE, startLocalDatabase } from './lib/local-database.js';
import { startOffline } from './lib/offline.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const budget = num('BENCH_BUDGET', 2);
const clients = num('BENCH_CLIENTS', 64);
const seconds = num('BENCH_SECONDS', 20);
const scenarios = (process.env.BENCH_SCENARIOS ?? 'list,create,mixed,login').split(',');
const modes = (process.env.BENCH_MODES ?? 'inprocess,http').split(',');
const timeoutMs = 28_000; // the functions' Lambda timeout (serverless.yml provider.timeout)
const password = 'bench-password-1';
const log = (line: string) => console.log(`[bench] ${line}`);

interface Result {
  scenario: string;
  mode: string;
  requests: number;
  rps: number;
  p50: number;
  p95: number;
  p99: number;
  statuses: Record<string, number>;
  peakConnections: number;
  leftConnections: number;
  connectMs?: number;
  heldMs?: number;
  retriesPerRequest?: number;
  ratioToRaw?: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Samples the app role's live connections from a superuser connection (not counted). */
function startSampler(adminUrl: string) {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bench-sampler' });
  let peak = 0;
  let running = true;
  const done = (async () => {
    await client.connect();
    while (running) {
      const { rows } = await client.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1',
        [APP_ROLE],
      );
      peak = Math.max(peak, rows[0]!.n);
      await new Promise((r) => setTimeout(r, 10));
    }
    await client.end();
  })();
  return {
    reset: () => (peak = 0),
    stop: async () => {
      running = false;
      await done;
      return peak;
    },
    peak: () => peak,
  };
}

function progress(label: string, counter: Int32Array, stopAt: number): NodeJS.Timeout {
  return setInterval(() => {
    const left = Math.max(0, Math.ceil((stopAt - Date.now()) / 1000));
    const line = `[bench] ${label}: ${Atomics.load(counter, 0)} requests, ${left}s left`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
  }, 1000);
}

async function leftover(adminUrl: string): Promise<number> {
  // Give closing backends a moment to exit, as pg_stat_activity lags a closed socket.
  for (let i = 0; i < 40; i++) {
    const n = await appConnections(adminUrl, APP_ROLE);
    if (n === 0) return 0;
    await new Promise((r) => setTimeout(r, 50));
  }
  return appConnections(adminUrl, APP_ROLE);
}

async function runWorkers(script: string, count: number, data: (i: number) => object, label: string) {
  const counter = new SharedArrayBuffer(4);
  const workers = Array.from(
    { length: count },
    (_, i) => new Worker(join(root, 'scripts/bench', script), { workerData: { ...data(i), counter } }),
  );
  // Each worker loads its modules (a cold start), then waits; all start together.
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.once('message', () => resolve());
          w.once('error', reject);
        }),
    ),
  );
  const stopAt = Date.now() + seconds * 1000;
  const ticker = progress(label, new Int32Array(counter), stopAt);
  const results = await Promise.all(
    workers.map(
      (w) =>
        new Promise<any>((resolve, reject) => {
          w.once('message', resolve);
          w.once('error', reject);
          w.postMessage({ stopAt });
        }),
    ),
  );
  clearInterval(ticker);
  process.stdout.write('\n');
  await Promise.all(workers.map((w) => w.terminate()));
  return results;
}

async function main() {
  log(`budget B=${budget} connections, N=${clients} clients, T=${seconds}s, scenarios ${scenarios.join(',')}, modes ${modes.join(',')}`);
  log(`machine: ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`);
  const dir = mkdtempSync(join(tmpdir(), 'cashbook-bench-'));
  const db = await startLocalDatabase({
    dataDir: join(dir, 'pg'),
    persistent: false,
    connectionLimit: budget,
    adminPassword: randomBytes(12).toString('hex'),
    appPassword: randomBytes(12).toString('hex'),
  });
  const jwtSecret = randomBytes(32).toString('hex');
  // Tokens must outlive the whole run (all scenarios, both modes).
  Object.assign(process.env, { DATABASE_URL: db.appUrl, JWT_SECRET: jwtSecret, LOG_LEVEL: 'info', JWT_ACCESS_TTL_SECONDS: '86400' });
  const results: Result[] = [];
  try {
    log('seeding: one user per client, 100 transactions each');
    const { hashPassword } = await import('../lib/auth/passwords.js');
    const { signToken } = await import('../lib/auth/tokens.js');
    const hash = await hashPassword(password);
    const admin = new pg.Client({ connectionString: db.adminUrl });
    await admin.connect();
    const { rows: users } = await admin.query<{ id: string; username: string }>(
      `INSERT INTO users (username, password_hash)
       SELECT 'bench' || i, $1 FROM generate_series(1, $2) i RETURNING id, username`,
      [hash, clients],
    );
    await admin.query(`INSERT INTO books (user_id, name, currency, is_default) SELECT id, 'Cashbook', 'INR', true FROM users`);
    await admin.query(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
       SELECT u.id, b.id, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'seed',
              DATE '2026-01-01' + (i % 300)
       FROM users u JOIN books b ON b.user_id = u.id, generate_series(1, 100) i`,
    );
    await admin.query('ANALYZE');
    await admin.end();
    const tokens = await Promise.all(users.map((u) => signToken(Number(u.id), 'access', Math.floor(Date.now() / 1000))));

    log('bundling handlers with esbuild (as serverless-esbuild does)');
    const outdir = join(root, 'bench/.build');
    rmSync(outdir, { recursive: true, force: true });
    const entries = { list: 'list-transactions', create: 'create-transaction', login: 'obtain-token' };
    await build({
      entryPoints: Object.fromEntries(Object.entries(entries).map(([k, f]) => [k, join(root, `functions/${f}.ts`)])),
      outdir,
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      outExtension: { '.js': '.mjs' },
      external: ['pg-native', '@aws-sdk/rds-signer', '@aws-sdk/client-ssm'],
      banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
      logLevel: 'warning',
    });
    const bundles = Object.fromEntries(Object.keys(entries).map((k) => [k, `file://${join(outdir, `${k}.mjs`)}`]));

    log(`raw limit: ${budget} workers looping connect -> SELECT 1 -> close with bare pg`);
    const rawSampler = startSampler(db.adminUrl);
    const raw = await runWorkers('raw.mjs', budget, () => ({ url: db.appUrl }), 'raw');
    const rawPeak = await rawSampler.stop();
    const rawOk = raw.reduce((s, r) => s + r.ok, 0);
    const rawLat = raw.flatMap((r) => r.latencies).sort((a, b) => a - b);
    const rawRps = rawOk / seconds;
    results.push({
      scenario: 'raw connect+SELECT 1',
      mode: 'bare pg',
      requests: rawOk,
      rps: round(rawRps),
      p50: round(percentile(rawLat, 50)),
      p95: round(percentile(rawLat, 95)),
      p99: round(percentile(rawLat, 99)),
      statuses: { ok: rawOk, refused: raw.reduce((s, r) => s + r.failed, 0) },
      peakConnections: rawPeak,
      leftConnections: await leftover(db.adminUrl),
    });

    for (const mode of modes) {
      for (const scenario of scenarios) {
        const sampler = startSampler(db.adminUrl);
        const result = mode === 'http'
          ? await httpScenario(scenario, tokens, users, jwtSecret, db.appUrl)
          : await inProcessScenario(scenario, tokens, users, bundles);
        const peak = await sampler.stop();
        const full: Result = {
          ...result,
          peakConnections: peak,
          leftConnections: await leftover(db.adminUrl),
          ratioToRaw: round(result.rps / rawRps, 2),
        };
        results.push(full);
        log(`${mode} ${scenario}: ${full.rps} req/s (${full.ratioToRaw} × raw), p99 ${full.p99} ms, ${JSON.stringify(full.statuses)}, peak ${peak}`);
      }
    }
  } finally {
    await db.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  printTable(results);
  mkdirSync(join(root, 'bench'), { recursive: true });
  const file = join(root, 'bench/results.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, budget, clients, seconds, results }, null, 2)}\n`,
  );
  log(`wrote ${file}`);
}

async function inProcessScenario(
  scenario: string,
  tokens: string[],
  users: Array<{ username: string }>,
  bundles: Record<string, string>,
): Promise<Omit<Result, 'peakConnections' | 'leftConnections'>> {
  const parts = await runWorkers(
    'container.mjs',
    clients,
    (i) => ({ bundles, scenario, token: tokens[i], username: users[i]!.username, password, timeoutMs }),
    `in-process ${scenario}`,
  );
  const elapsed = seconds;
  const latencies = parts.flatMap((p) => p.latencies).sort((a, b) => a - b);
  const statuses: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries<number>(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const causes: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries<number>(p.causes)) causes[k] = (causes[k] ?? 0) + v;
  if (Object.keys(causes).length) log(`error causes: ${JSON.stringify(causes)}`);
  const logged = parts.reduce((s, p) => s + p.logged, 0) || 1;
  const attempts = parts.reduce((s, p) => s + p.connectAttempts, 0);
  return {
    scenario,
    mode: 'in-process',
    requests: latencies.length,
    rps: round(latencies.length / elapsed),
    p50: round(percentile(latencies, 50)),
    p95: round(percentile(latencies, 95)),
    p99: round(percentile(latencies, 99)),
    statuses,
    connectMs: round(parts.reduce((s, p) => s + p.connectMs, 0) / logged),
    heldMs: round(parts.reduce((s, p) => s + p.heldMs, 0) / logged),
    retriesPerRequest: round((attempts - logged) / logged, 2),
  };
}

async function httpScenario(
  scenario: string,
  tokens: string[],
  users: Array<{ username: string }>,
  jwtSecret: string,
  databaseUrl: string,
): Promise<Omit<Result, 'peakConnections' | 'leftConnections'>> {
  let attempts = 0;
  let logged = 0;
  let connectMs = 0;
  let heldMs = 0;
  const offline = await startOffline({ DATABASE_URL: databaseUrl, JWT_SECRET: jwtSecret, LOG_LEVEL: 'info' }, 120_000, 'bench', (line) => {
    if (!line.startsWith('{') || !line.includes('"db":')) return;
    try {
      const { db } = JSON.parse(line);
      attempts += db.connectAttempts;
      connectMs += db.connectMs;
      heldMs += db.heldMs;
      logged++;
    } catch {
      // not an invocation line
    }
  });
  try {
    const json = { 'content-type': 'application/json' };
    const list = { method: 'GET' as const, path: '/api/transactions/', headers: { authorization: `Bearer ${tokens[0]}` } };
    const create = {
      method: 'POST' as const,
      path: '/api/transactions/',
      headers: { ...json, authorization: `Bearer ${tokens[0]}` },
      body: JSON.stringify({ type: 'expense', amount: '12.34', category: 'bench' }),
    };
    const login = {
      method: 'POST' as const,
      path: '/api/token/',
      headers: json,
      body: JSON.stringify({ username: users[0]!.username, password }),
    };
    const pick = () => (scenario === 'list' ? list : scenario === 'create' ? create : scenario === 'login' ? login : Math.random() < 0.8 ? list : create);
    // Warm up the worker threads (serverless-offline's "containers") of this scenario's
    // functions before measuring: their cold starts are not what this bench compares.
    await autocannon({
      url: offline.baseUrl,
      connections: clients,
      amount: clients * 3,
      timeout: 60,
      requests: [{ setupRequest: (req: object) => ({ ...req, ...pick() }) }],
    });
    logged = attempts = connectMs = heldMs = 0;
    log(`http ${scenario}: autocannon, ${clients} connections, ${seconds}s`);
    const out = await autocannon({
      url: offline.baseUrl,
      connections: clients,
      duration: seconds,
      timeout: 40,
      requests: [{ setupRequest: (req: object) => ({ ...req, ...pick() }) }],
    });
    const statuses: Record<string, number> = {};
    for (const [k, v] of Object.entries(out.statusCodeStats ?? {})) statuses[k] = (v as { count: number }).count;
    if (out.errors) statuses.errors = out.errors;
    if (out.timeouts) statuses.timeouts = out.timeouts;
    const n = logged || 1;
    return {
      scenario,
      mode: 'http (offline)',
      requests: out.requests.total,
      rps: round(out.requests.average),
      p50: out.latency.p50,
      p95: (out.latency as unknown as Record<string, number>).p97_5 ?? out.latency.p99,
      p99: out.latency.p99,
      statuses,
      connectMs: round(connectMs / n),
      heldMs: round(heldMs / n),
      retriesPerRequest: round((attempts - logged) / n, 2),
    };
  } finally {
    await offline.stop();
  }
}

function printTable(results: Result[]) {
  const head = ['scenario', 'mode', 'req/s', '× raw', 'p50 ms', 'p95 ms', 'p99 ms', 'statuses', 'peak', 'left', 'connect ms', 'held ms', 'retries/req'];
  const rows = results.map((r) => [
    r.scenario,
    r.mode,
    String(r.rps),
    r.ratioToRaw === undefined ? '1.00' : r.ratioToRaw.toFixed(2),
    String(r.p50),
    String(r.p95),
    String(r.p99),
    Object.entries(r.statuses).map(([k, v]) => `${k}:${v}`).join(' '),
    String(r.peakConnections),
    String(r.leftConnections),
    r.connectMs === undefined ? '' : String(r.connectMs),
    r.heldMs === undefined ? '' : String(r.heldMs),
    r.retriesPerRequest === undefined ? '' : String(r.retriesPerRequest),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
}

await main();
