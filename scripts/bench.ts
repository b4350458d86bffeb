// `npm run bench`: what the one-connection-per-invocation design costs and delivers on a
// connection-limited database, directly and through PgBouncer (the local stand-in for RDS
// Proxy). A benchmark, not a test: it measures and reports.
//
// Every setting is an environment variable or the same name as a flag (--seconds=5):
//   BENCH_SCENARIOS  cold-start,raw,mixed,large-book,shared-book   (also: list, create, login)
//   BENCH_VIA        direct,pooled     pooled = PgBouncer, transaction pooling, pool = budget
//   BENCH_CLIENTS    2,64              concurrent clients for raw/mixed/list/create/login
//   BENCH_SECONDS    15                per measured point
//   BENCH_MODES      http              http = serverless-offline; inprocess = bundled handlers in workers;
//                                      django = the old backend (Django + DRF + SimpleJWT under gunicorn,
//                                      scripts/bench/django.ts) on the same server, same load and meters
//                                      (the list, create and mixed points)
//   BENCH_RUNNERS    workers           serverless-offline's runners for the load points (LOCAL_RUNNER):
//                                      workers,in-process measures both (rows "http", "http in-process")
//   BENCH_BUDGET     2                 the app role's CONNECTION LIMIT (and PgBouncer's pool)
//   BENCH_LARGE_ROWS 1000000           rows of the large book (large-book)
//   BENCH_REQUESTS   30                sequential requests per large-book measurement
//   BENCH_STATEMENTS 0                 1: pg_stat_statements on, and each load point prints its
//                                      statements' planning and execution ms per call (costs CPU itself)
//   BENCH_PG_LOG     (unset)           set: the embedded PostgreSQL's log on stderr (a failed run's cause)
// The default run takes about 10 minutes.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Worker } from 'node:worker_threads';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import pg from 'pg';
import { appConnections } from './lib/database-setup.js';
import { APP_ROLE, APP_DATABASE, startLocalDatabase } from './lib/local-database.js';
import { localRunner, startOffline, type LocalRunner } from './lib/offline.js';
import { pgbouncerBinary, poolerActivity, processCpuMs, startPgBouncer, INSTALL_HINT, type PgBouncer } from './lib/pgbouncer.js';
import { postgresCpuByKind, postgresCpuMs, postmasterPid, processTreeCpuMs } from './bench/cpu.js';
import { DJANGO_INSTALL_HINT, OLD_DATABASE, OLD_ROLE, djangoInstalled, setUpOldDatabase, startOldBackend, type OldBackend } from './bench/django.js';

for (const arg of process.argv.slice(2)) {
  const match = /^--([a-z-]+)=(.*)$/.exec(arg);
  if (match) process.env[`BENCH_${match[1]!.replaceAll('-', '_').toUpperCase()}`] = match[2];
}
const root = fileURLToPath(new URL('..', import.meta.url));
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const list = (name: string, fallback: string) => (process.env[name] ?? fallback).split(',').map((s) => s.trim()).filter(Boolean);
const budget = num('BENCH_BUDGET', 2);
const clientCounts = list('BENCH_CLIENTS', '2,64').map(Number);
const seconds = num('BENCH_SECONDS', 15);
const scenarios = list('BENCH_SCENARIOS', 'cold-start,raw,mixed,large-book,shared-book');
let modes = list('BENCH_MODES', 'http');
const runners = list('BENCH_RUNNERS', 'workers').map(localRunner);
let vias = list('BENCH_VIA', 'direct,pooled');
const largeRows = num('BENCH_LARGE_ROWS', 1_000_000);
const largeRequests = num('BENCH_REQUESTS', 30);
const statementStats = process.env.BENCH_STATEMENTS === '1';
let statementsAdminUrl = '';
const timeoutMs = 28_000; // the functions' Lambda timeout (serverless.yml provider.timeout)
const password = 'bench-password-1';
const log = (line: string) => console.log(`[bench] ${line}`);
const LOAD_SCENARIOS = ['list', 'create', 'mixed', 'login'];

interface Result {
  scenario: string;
  via: string;
  mode: string;
  clients: number;
  requests: number;
  /** Successful (2xx) requests per second. */
  okPerSecond: number;
  okPercent: number;
  mean: number;
  p50: number;
  p99: number;
  statuses: Record<string, number>;
  /** PostgreSQL CPU ms per successful request. */
  pgCpuPerOk?: number;
  /** pgCpuPerOk by kind of PostgreSQL process (backends, checkpointer, autovacuum worker, ...). */
  pgCpuByKind?: Record<string, number>;
  /** PgBouncer's own CPU ms per successful request (pooled only). */
  bouncerCpuPerOk?: number;
  /** serverless-offline's CPU ms (process, worker threads, children) per successful request (http only). */
  nodeCpuPerOk?: number;
  /** The load generator's (this process's) CPU ms per successful request. */
  loadCpuPerOk?: number;
  /** Connection attempts (to PostgreSQL or PgBouncer) per successful request. */
  attemptsPerOk?: number;
  heldMs?: number;
  peakConnections?: number;
  leftConnections?: number;
  /** What a scenario checked after its run (shared-book: deadlocks, totals, history). */
  checks?: string;
}

const percentile = (sorted: number[], p: number) =>
  sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]! : 0;
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const isOk = (status: string) => /^2\d\d$/.test(status);

/**
 * Backends the bench itself keeps open during a measurement (the connection sampler): their CPU
 * is the bench's, not the API's, and is taken out of the PostgreSQL figure. The sampler's
 * `pg_stat_activity` query, ~90 times a second, costs about as much as a request's statement.
 */
const benchBackends = new Set<number>();
const benchBackendsCpuMs = () => [...benchBackends].reduce((sum, pid) => sum + processCpuMs(pid), 0);

/** A role whose connections a row counts: this project's, or the old backend's (mode django). */
interface Served {
  role: string;
  database: string;
  bouncer: PgBouncer | undefined;
}

/** Samples a role's live connections from a superuser connection (not counted). */
async function startSampler(adminUrl: string, role = APP_ROLE) {
  const client = new pg.Client({ connectionString: adminUrl, application_name: 'bench-sampler' });
  client.on('error', () => {}); // the server stopping under it after a failed scenario: that failure is the one to report
  let peak = 0;
  let running = true;
  await client.connect();
  const pid = (await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid;
  benchBackends.add(pid);
  const done = (async () => {
    while (running) {
      const { rows } = await client.query<{ n: number }>('SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = $1', [role]);
      peak = Math.max(peak, rows[0]!.n);
      await new Promise((r) => setTimeout(r, 10));
    }
  })().catch((err: unknown) => err); // rethrown by stop(), not an unhandled rejection that hides the scenario's own failure
  return {
    stop: async () => {
      running = false;
      const failed = await done;
      if (failed) throw failed;
      benchBackends.delete(pid);
      await client.end();
      return peak;
    },
  };
}

/** Connections the application still holds (through PgBouncer: its clients and busy servers). */
async function leftover(adminUrl: string, { role, database, bouncer }: Served): Promise<number> {
  const count = async () => {
    if (!bouncer) return appConnections(adminUrl, role);
    const a = await poolerActivity(bouncer.consoleUrl, database);
    return a.clients + a.activeServers;
  };
  for (let i = 0; i < 40; i++) {
    if ((await count()) === 0) return 0;
    await new Promise((r) => setTimeout(r, 50));
  }
  return count();
}

function progress(label: string, counter: Int32Array, stopAt: number): NodeJS.Timeout {
  return setInterval(() => {
    const left = Math.max(0, Math.ceil((stopAt - Date.now()) / 1000));
    const line = `[bench] ${label}: ${Atomics.load(counter, 0)} requests, ${left}s left`;
    process.stdout.write(process.stdout.isTTY ? `\r${line}   ` : `${line}\n`);
  }, 1000);
}

async function runWorkers(script: string, count: number, data: (i: number) => object, label: string) {
  const counter = new SharedArrayBuffer(4);
  const workers = Array.from({ length: count }, (_, i) => new Worker(join(root, 'scripts/bench', script), { workerData: { ...data(i), counter } }));
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
  if (process.stdout.isTTY) process.stdout.write('\n');
  await Promise.all(workers.map((w) => w.terminate()));
  return results;
}

interface CpuSpent {
  pgMs: number;
  /** pgMs by kind of PostgreSQL process (postgresCpuByKind), the bench's own backends left out. */
  pgByKind: Map<string, number>;
  bouncerMs: number | undefined;
  /** serverless-offline: its process (worker threads included) and its children. */
  nodeMs: number | undefined;
  /** This process: autocannon and the samplers. */
  loadMs: number;
}
type Meter = (offlinePid?: number) => () => CpuSpent;

/**
 * CPU meters around one measured stretch: PostgreSQL, PgBouncer when pooled, and the Node side
 * (serverless-offline and its workers, when it serves the stretch; the load generator), so a
 * reader sees where each millisecond of a request goes on a machine they all share.
 */
function cpuMeter(pmPid: number, bouncer: PgBouncer | undefined, offlinePid?: number): () => CpuSpent {
  const pg0 = postgresCpuMs(pmPid) - benchBackendsCpuMs();
  const kinds0 = postgresCpuByKind(pmPid);
  const benchBackends0 = benchBackendsCpuMs();
  const b0 = bouncer?.cpuMs() ?? 0;
  const n0 = offlinePid === undefined ? 0 : processTreeCpuMs(offlinePid);
  const l0 = process.cpuUsage();
  return () => {
    const load = process.cpuUsage(l0);
    const kinds = postgresCpuByKind(pmPid);
    for (const [kind, ms] of kinds0) kinds.set(kind, (kinds.get(kind) ?? 0) - ms);
    kinds.set('backends', (kinds.get('backends') ?? 0) - (benchBackendsCpuMs() - benchBackends0));
    return {
      pgMs: postgresCpuMs(pmPid) - benchBackendsCpuMs() - pg0,
      pgByKind: kinds,
      bouncerMs: bouncer ? bouncer.cpuMs() - b0 : undefined,
      nodeMs: offlinePid === undefined ? undefined : processTreeCpuMs(offlinePid) - n0,
      loadMs: (load.user + load.system) / 1000,
    };
  };
}

/** CPU ms per successful request, by process, for a result row. */
const cpuPerOk = (cpu: CpuSpent, ok: number) => ({
  pgCpuPerOk: round(cpu.pgMs / Math.max(1, ok), 2),
  pgCpuByKind: Object.fromEntries([...cpu.pgByKind].filter(([, ms]) => Math.abs(ms) >= 5).map(([kind, ms]) => [kind, round(ms / Math.max(1, ok), 2)])),
  bouncerCpuPerOk: cpu.bouncerMs === undefined ? undefined : round(cpu.bouncerMs / Math.max(1, ok), 2),
  nodeCpuPerOk: cpu.nodeMs === undefined ? undefined : round(cpu.nodeMs / Math.max(1, ok), 2),
  loadCpuPerOk: round(cpu.loadMs / Math.max(1, ok), 2),
});

const ESBUILD_PLUGINS = createRequire(import.meta.url)('./esbuild-plugins.cjs');
const { S3_FUNCTIONS } = createRequire(import.meta.url)('./esbuild-aws-sdk.cjs') as { S3_FUNCTIONS: RegExp };

/** Bundles handlers as serverless-esbuild does (same options and plugins as serverless.yml). */
async function bundle(entries: Record<string, string>, outdir: string): Promise<Record<string, string>> {
  rmSync(outdir, { recursive: true, force: true });
  await build({
    entryPoints: Object.fromEntries(Object.entries(entries).map(([k, f]) => [k, join(root, `functions/${f}.ts`)])),
    outdir,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    outExtension: { '.js': '.mjs' },
    external: ['pg-native'],
    plugins: ESBUILD_PLUGINS,
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    logLevel: 'warning',
  });
  return Object.fromEntries(Object.keys(entries).map((k) => [k, `file://${join(outdir, `${k}.mjs`)}`]));
}

async function coldStarts(env: Record<string, string>): Promise<Array<{ name: string; p50: number; max: number }>> {
  const names = readdirSync(join(root, 'functions'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3));
  // Bundled as deployed: the attachment functions apart, since only they may load the S3 SDK
  // (scripts/esbuild-aws-sdk.cjs refuses it in a build that holds any other function).
  const withS3 = (n: string) => S3_FUNCTIONS.test(`functions/${n}.ts`);
  const bundles = {
    ...(await bundle(Object.fromEntries(names.filter(withS3).map((n) => [n, n])), join(root, 'bench/.build/cold-s3'))),
    ...(await bundle(Object.fromEntries(names.filter((n) => !withS3(n)).map((n) => [n, n])), join(root, 'bench/.build/cold'))),
  };
  const run = promisify(execFile);
  const rows = [];
  for (const name of names) {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) {
      const { stdout } = await run(process.execPath, [join(root, 'scripts/bench/cold-start.mjs'), bundles[name]!], {
        env: { ...process.env, ...env, LOG_LEVEL: 'silent' },
      });
      times.push(Number(stdout.trim().split('\n').pop()));
    }
    times.sort((a, b) => a - b);
    rows.push({ name, p50: round(percentile(times, 50)), max: round(times[times.length - 1]!) });
  }
  return rows;
}

interface Seeded {
  tokens: string[];
  users: Array<{ id: string; username: string }>;
}

async function seed(adminUrl: string, count: number): Promise<Seeded> {
  const { hashPassword } = await import('../lib/auth/passwords.js');
  const { signToken } = await import('../lib/auth/tokens.js');
  const hash = await hashPassword(password);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows: users } = await admin.query<{ id: string; username: string }>(
      `INSERT INTO users (username, password_hash) SELECT 'bench' || i, $1 FROM generate_series(1, $2) i RETURNING id, username`,
      [hash, count],
    );
    await admin.query(`INSERT INTO books (user_id, name, currency, is_default) SELECT id, 'Cashbook', 'INR', true FROM users`);
    await admin.query(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
       SELECT u.id, b.id, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99, 'seed', DATE '2026-01-01' + (i % 300)
       FROM users u JOIN books b ON b.user_id = u.id, generate_series(1, 100) i`,
    );
    await admin.query('ANALYZE');
    const tokens = await Promise.all(users.map((u) => signToken(Number(u.id), 'access', Math.floor(Date.now() / 1000))));
    return { tokens, users };
  } finally {
    await admin.end();
  }
}

/** The old backend's database with as many users as this project's, and their SimpleJWT tokens. */
async function seedOldBackend(adminUrl: string, count: number): Promise<{ url: string; seeded: Seeded }> {
  const { signToken } = await import('../lib/auth/tokens.js');
  const { url, userIds } = await setUpOldDatabase(adminUrl, budget, count);
  const now = Math.floor(Date.now() / 1000);
  const tokens = await Promise.all(userIds.map((id) => signToken(id, 'access', now)));
  return { url, seeded: { tokens, users: userIds.map((id, i) => ({ id: String(id), username: `bench${i + 1}` })) } };
}

/** Raw limit: `budget` loops of bare connect -> SELECT 1 -> close (no retries needed). */
async function rawScenario(url: string, via: string, clients: number): Promise<Omit<Result, 'pgCpuPerOk' | 'bouncerCpuPerOk'>> {
  const parts = await runWorkers('raw.mjs', clients, () => ({ url }), `raw ${via}`);
  const ok = parts.reduce((s, r) => s + r.ok, 0);
  const failed = parts.reduce((s, r) => s + r.failed, 0);
  const lat = parts.flatMap((r) => r.latencies).sort((a: number, b: number) => a - b);
  const mean = lat.reduce((s: number, x: number) => s + x, 0) / (lat.length || 1);
  return {
    scenario: 'raw connect+SELECT 1',
    via,
    mode: 'bare pg',
    clients,
    requests: ok + failed,
    okPerSecond: round(ok / seconds),
    okPercent: round((100 * ok) / Math.max(1, ok + failed)),
    mean: round(mean),
    p50: round(percentile(lat, 50)),
    p99: round(percentile(lat, 99)),
    statuses: { ok, refused: failed },
    attemptsPerOk: round((ok + failed) / Math.max(1, ok), 2),
  };
}

async function inProcessScenario(scenario: string, via: string, clients: number, seeded: Seeded, bundles: Record<string, string>): Promise<Result> {
  const parts = await runWorkers(
    'container.mjs',
    clients,
    (i) => ({ bundles, scenario, token: seeded.tokens[i], username: seeded.users[i]!.username, password, timeoutMs }),
    `in-process ${scenario} ${via} ×${clients}`,
  );
  const latencies = parts.flatMap((p) => p.latencies).sort((a: number, b: number) => a - b);
  const statuses: Record<string, number> = {};
  for (const p of parts) for (const [k, v] of Object.entries<number>(p.statuses)) statuses[k] = (statuses[k] ?? 0) + v;
  const ok = Object.entries(statuses).reduce((s, [k, v]) => s + (isOk(k) ? v : 0), 0);
  const logged = parts.reduce((s, p) => s + p.logged, 0) || 1;
  const attempts = parts.reduce((s, p) => s + p.connectAttempts, 0);
  return {
    scenario,
    via,
    mode: 'in-process',
    clients,
    requests: latencies.length,
    okPerSecond: round(ok / seconds),
    okPercent: round((100 * ok) / Math.max(1, latencies.length)),
    mean: round(latencies.reduce((s: number, x: number) => s + x, 0) / Math.max(1, latencies.length)),
    p50: round(percentile(latencies, 50)),
    p99: round(percentile(latencies, 99)),
    statuses,
    attemptsPerOk: round(attempts / Math.max(1, ok), 2),
    heldMs: round(parts.reduce((s, p) => s + p.heldMs, 0) / logged),
  };
}

/** serverless-offline with the invocation log lines' connection figures summed. */
async function offlineWithStats(databaseUrl: string, pooled: boolean, jwtSecret: string, runner: LocalRunner) {
  const stats = { attempts: 0, logged: 0, heldMs: 0 };
  const offline = await startOffline({ DATABASE_URL: databaseUrl, DB_POOLED: String(pooled), JWT_SECRET: jwtSecret, LOG_LEVEL: 'info' }, 120_000, 'bench', (line) => {
    if (!line.startsWith('{') || !line.includes('"db":')) return;
    try {
      const { db } = JSON.parse(line);
      stats.attempts += db.connectAttempts;
      stats.heldMs += db.heldMs;
      stats.logged++;
    } catch {
      // not an invocation line
    }
  }, runner);
  return { offline, stats, runner, reset: () => Object.assign(stats, { attempts: 0, logged: 0, heldMs: 0 }) };
}

type Request = { method: 'GET' | 'POST'; path: string; headers: Record<string, string>; body?: string };

function statusesOf(out: autocannon.Result): Record<string, number> {
  const statuses: Record<string, number> = {};
  for (const [k, v] of Object.entries(out.statusCodeStats ?? {})) statuses[k] = (v as { count: number }).count;
  if (out.errors) statuses.errors = out.errors;
  if (out.timeouts) statuses.timeouts = out.timeouts;
  return statuses;
}

type ServerStats = Awaited<ReturnType<typeof offlineWithStats>>['stats'];

/** One measured autocannon run as a row: throughput and latency, and the server's cost per success. */
function httpResult(
  row: Pick<Result, 'scenario' | 'via' | 'clients' | 'requests'>,
  out: autocannon.Result,
  seconds: number,
  cpu: CpuSpent,
  stats: ServerStats | undefined,
  runner: LocalRunner = 'workers',
): Result {
  const statuses = statusesOf(out);
  const ok = Object.entries(statuses).reduce((s, [k, v]) => s + (isOk(k) ? v : 0), 0);
  return {
    ...row,
    mode: runner === 'workers' ? 'http' : `http ${runner}`,
    okPerSecond: round(ok / seconds),
    okPercent: round((100 * ok) / Math.max(1, row.requests)),
    mean: round(out.latency.mean),
    p50: out.latency.p50,
    p99: out.latency.p99,
    statuses,
    ...cpuPerOk(cpu, ok),
    ...(stats && {
      attemptsPerOk: round(stats.attempts / Math.max(1, ok), 2),
      heldMs: round(stats.heldMs / Math.max(1, stats.logged)),
    }),
  };
}

/** What httpLoad drives: serverless-offline, or the old backend (`mode`: its rows' label; `role`: its database role). */
type LoadServer = Pick<Awaited<ReturnType<typeof offlineWithStats>>, 'runner'> & {
  offline: { pid: number; baseUrl: string };
  /** serverless-offline's connect attempts and hold times, from the functions' logs (the old backend logs none). */
  stats?: ServerStats;
  reset?: () => void;
  mode?: string;
  role?: string;
};

async function httpLoad(
  server: LoadServer,
  scenario: string,
  via: string,
  clients: number,
  seeded: Seeded,
  meter: Meter,
): Promise<Result> {
  const json = { 'content-type': 'application/json' };
  // Each autocannon connection is one user (its own token), as clients of the API would be.
  const auth = (i: number) => ({ authorization: `Bearer ${seeded.tokens[i % seeded.tokens.length]}` });
  // A page of 20, as the old backend's clients asked for (BENCHMARKS.md: "80% list of 20"); the
  // API's default is 50, which the bench sent until 2026-12-04.
  const listReq = (i: number): Request => ({ method: 'GET', path: `/api/transactions/?page_size=${LIST_PAGE_SIZE}`, headers: auth(i) });
  const createReq = (i: number): Request => ({
    method: 'POST',
    path: '/api/transactions/',
    headers: { ...json, ...auth(i) },
    body: JSON.stringify({ type: 'expense', amount: '12.34', category: 'bench' }),
  });
  const loginReq = (i: number): Request => ({
    method: 'POST',
    path: '/api/token/',
    headers: json,
    body: JSON.stringify({ username: seeded.users[i % seeded.users.length]!.username, password }),
  });
  let next = 0;
  const pick = () => {
    const i = next++;
    if (scenario === 'list') return listReq(i);
    if (scenario === 'create') return createReq(i);
    if (scenario === 'login') return loginReq(i);
    return Math.random() < 0.8 ? listReq(i) : createReq(i);
  };
  const requests = [{ setupRequest: (req: object) => ({ ...req, ...pick() }) }];
  // Warm serverless-offline's worker threads ("containers") first: cold starts are reported
  // separately. The pool grows to each function's peak concurrency, which with a random mix
  // takes more than one round: after one round of 3 requests per client, workers were still
  // starting in the measured window (pooled x64 on 2 x EPYC, 7 runs: p99 1.7-4.8 x the mean; 6
  // runs after this change: 1.7-3.1). So rounds go on until one adds no thread, at most
  // WARM_ROUNDS; the log says how many threads the measured window added.
  let rounds = 0;
  for (let before = threadCount(server.offline.pid); rounds < WARM_ROUNDS; ) {
    rounds++;
    await autocannon({ url: server.offline.baseUrl, connections: clients, amount: clients * 3, timeout: 60, requests });
    const after = threadCount(server.offline.pid);
    if (after <= before) break;
    before = after;
  }
  server.reset?.();
  if (statementStats) await adminQuery('SELECT pg_stat_statements_reset()');
  log(`http ${scenario} ${via}: ${clients} clients, ${seconds}s (after ${rounds} warm-up rounds, ${threadCount(server.offline.pid)} threads)`);
  const done = meter(server.offline.pid);
  const out = await autocannon({ url: server.offline.baseUrl, connections: clients, duration: seconds, timeout: 40, requests });
  const cpu = done();
  log(`http ${scenario} ${via}: ${threadCount(server.offline.pid)} threads after the run`);
  const result = httpResult({ scenario, via, clients, requests: out.requests.total + (out.errors ?? 0) }, out, seconds, cpu, server.stats, server.runner);
  const row = server.mode ? { ...result, mode: server.mode } : result;
  if (statementStats) await printStatements(`${row.mode} ${scenario} ${via} ×${clients}`, server.role);
  return row;
}

const WARM_ROUNDS = 5;
const LIST_PAGE_SIZE = 20;

/** Threads of a process (serverless-offline: its own, libuv's and V8's, and one per worker). */
function threadCount(pid: number): number {
  return Number(/^Threads:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
}

async function adminQuery<T extends pg.QueryResultRow>(text: string): Promise<T[]> {
  const admin = new pg.Client({ connectionString: statementsAdminUrl });
  await admin.connect();
  try {
    return (await admin.query<T>(text)).rows;
  } finally {
    await admin.end();
  }
}

/** BENCH_STATEMENTS=1: the application role's statements of the last point, by total time. */
async function printStatements(label: string, role = APP_ROLE) {
  const rows = await adminQuery<{ calls: string; plans: string; plan: number; exec: number; blocks: number; query: string }>(
    `SELECT calls, plans, round((total_plan_time / greatest(plans, 1))::numeric, 3)::float AS plan,
            round((total_exec_time / greatest(calls, 1))::numeric, 3)::float AS exec,
            round(((shared_blks_hit + shared_blks_read)::numeric / greatest(calls, 1)), 1)::float AS blocks,
            left(regexp_replace(query, '\\s+', ' ', 'g'), 100) AS query
     FROM pg_stat_statements WHERE userid = '${role}'::regrole
     ORDER BY total_plan_time + total_exec_time DESC LIMIT 15`,
  );
  console.log(`\nStatements of ${label} (pg_stat_statements: calls, plans, mean ms per planning, mean execution ms, blocks/call; the top 15 by total time):`);
  for (const r of rows) console.log(`  ${r.calls.padStart(6)}  ${r.plans.padStart(6)}  ${r.plan.toFixed(3).padStart(7)}  ${r.exec.toFixed(3).padStart(7)}  ${String(r.blocks).padStart(7)}  ${r.query}`);
}

/** One book of `rows` rows and one of 1,000, for one user; INSERT … SELECT generate_series. */
async function seedLargeBooks(adminUrl: string, seeded: Seeded): Promise<Array<{ label: string; book: string; rows: number; recent: string }>> {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const user = seeded.users[0]!.id;
    const books = [];
    for (const [label, rows] of [
      ['1k book', 1_000],
      [`${rows1M(largeRows)} book`, largeRows],
    ] as const) {
      const started = Date.now();
      const {
        rows: [book],
      } = await admin.query<{ id: string }>(`INSERT INTO books (user_id, name, currency) VALUES ($1, $2, 'INR') RETURNING id`, [user, label]);
      // About 330 rows a day for the large book, ending on 2026-06-30; 3 days ≈ 1,000 rows to export.
      const days = Math.max(1, Math.ceil(rows / 330));
      await admin.query(
        `INSERT INTO transactions (user_id, book_id, type, amount, category, date)
         SELECT $1, $2, CASE WHEN i % 3 = 0 THEN 'income' ELSE 'expense' END, (i % 500) + 0.99,
                (ARRAY['food','rent','salary','travel','misc'])[1 + i % 5], DATE '2026-06-30' - (i % $4)
         FROM generate_series(1, $3) i`,
        [user, book!.id, rows, days],
      );
      // Done now, not by autovacuum during a later scenario, whose CPU figure it would inflate:
      // every table the insert wrote, book_activity's million history rows too (left to
      // autovacuum, they doubled the PostgreSQL CPU of the load points measured after them).
      await admin.query('VACUUM (ANALYZE) transactions, book_activity, book_totals');
      await admin.query('CHECKPOINT');
      const recent = rows > 1_000 ? '2026-06-28' : '2000-01-01';
      log(`seeded ${label}: ${rows} rows in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      books.push({ label, book: book!.id, rows, recent });
    }
    return books;
  } finally {
    await admin.end();
  }
}

const SHARED_MEMBERS = 8;

/**
 * shared-book: 8 members (the owner, 2 admins, 5 operators) write and read ONE book at once for
 * `seconds`: 40 % create an entry in it, 20 % change the amount of one they recorded, 10 % delete
 * one they recorded, 30 % list the book. Afterwards: every answer 2xx, no deadlock (the server's
 * counter), the book's totals equal a recompute from its rows at all three grains, and its
 * history holds one version per successful write.
 */
async function sharedBook(
  server: Awaited<ReturnType<typeof offlineWithStats>>,
  via: string,
  seeded: Seeded,
  meter: Meter,
  adminUrl: string,
): Promise<Result> {
  const members = seeded.users.slice(0, SHARED_MEMBERS);
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    const { rows: [book] } = await admin.query<{ id: string }>(
      `INSERT INTO books (user_id, name, currency) VALUES ($1, $2, 'INR') RETURNING id`,
      [members[0]!.id, `shared ${via}`],
    );
    await admin.query(
      `INSERT INTO book_members (book_id, user_id, role, status, invited_by, updated_by)
       SELECT $1, m.id, CASE WHEN m.n <= 2 THEN 'admin' ELSE 'operator' END, 'active', $2, $2
       FROM unnest($3::bigint[]) WITH ORDINALITY AS m (id, n)`,
      [book!.id, members[0]!.id, members.slice(1).map((m) => m.id)],
    );
    const deadlocksBefore = await deadlocks(admin);
    // Each member is one loop of requests, one at a time, with the ids of the entries it recorded
    // (operators may change only those). A plain fetch loop, not autocannon: every request of the
    // run is answered before the checks, so the counts below are exact.
    const writes = { created: 0, updated: 0, deleted: 0 };
    const statuses: Record<string, number> = {};
    const latencies: number[] = [];
    const base = server.offline.baseUrl;
    const member = async (i: number, until: number) => {
      const headers = { 'content-type': 'application/json', authorization: `Bearer ${seeded.tokens[i]}` };
      const ids: string[] = [];
      const amount = () => ((1 + Math.floor(Math.random() * 99_999)) / 100).toFixed(2);
      while (Date.now() < until) {
        const r = Math.random();
        const id = ids[Math.floor(Math.random() * ids.length)];
        let request: [string, RequestInit];
        if (r < 0.4 || !id) {
          const body = { book: book!.id, type: Math.random() < 0.3 ? 'income' : 'expense', amount: amount(), category: `c${Math.floor(Math.random() * 5)}` };
          request = ['/api/transactions/', { method: 'POST', headers, body: JSON.stringify(body) }];
        } else if (r < 0.6) {
          request = [`/api/transactions/${id}/`, { method: 'PATCH', headers, body: JSON.stringify({ amount: amount() }) }];
        } else if (r < 0.7) {
          ids.splice(ids.indexOf(id), 1);
          request = [`/api/transactions/${id}/`, { method: 'DELETE', headers }];
        } else {
          request = [`/api/transactions/?book=${book!.id}`, { method: 'GET', headers }];
        }
        const started = performance.now();
        const res = await fetch(`${base}${request[0]}`, request[1]);
        const text = await res.text();
        latencies.push(performance.now() - started);
        statuses[String(res.status)] = (statuses[String(res.status)] ?? 0) + 1;
        if (res.status === 201) {
          ids.push(JSON.parse(text).id);
          writes.created++;
        } else if (res.status === 200 && request[1].method === 'PATCH') writes.updated++;
        else if (res.status === 204) writes.deleted++;
      }
    };
    server.reset();
    log(`http shared-book ${via}: ${SHARED_MEMBERS} members, ${seconds}s`);
    const done = meter(server.offline.pid);
    const started = Date.now();
    await Promise.all(members.map((_, i) => member(i, started + seconds * 1000)));
    const elapsed = (Date.now() - started) / 1000;
    const cpu = done();
    latencies.sort((a, b) => a - b);
    const ok = Object.entries(statuses).reduce((n, [k, v]) => n + (isOk(k) ? v : 0), 0);
    const stats = server.stats;
    const result: Result = {
      scenario: 'shared-book (8 members)',
      via,
      mode: 'http',
      clients: SHARED_MEMBERS,
      requests: latencies.length,
      okPerSecond: round(ok / elapsed),
      okPercent: round((100 * ok) / Math.max(1, latencies.length)),
      mean: round(latencies.reduce((a, b) => a + b, 0) / Math.max(1, latencies.length)),
      p50: round(latencies[Math.floor(latencies.length * 0.5)] ?? 0),
      p99: round(latencies[Math.floor(latencies.length * 0.99)] ?? 0),
      statuses,
      ...cpuPerOk(cpu, ok),
      attemptsPerOk: round(stats.attempts / Math.max(1, ok), 2),
      heldMs: round(stats.heldMs / Math.max(1, stats.logged)),
    };
    const newDeadlocks = (await deadlocks(admin)) - deadlocksBefore;
    const { rows: [check] } = await admin.query<{ mismatched: string; created: string; updated: string; deleted: string; entries: string }>(
      `WITH recomputed AS (
         SELECT t.book_id, g.grain,
                CASE g.grain WHEN 0 THEN t.date WHEN 1 THEN date_trunc('month', t.date::timestamp)::date
                             ELSE date_trunc('year', t.date::timestamp)::date END AS starts,
                CASE g.grain WHEN 1 THEN t.category ELSE '' END AS category,
                CASE g.grain WHEN 1 THEN t.type ELSE '' END AS type,
                count(*) AS entries, sum(CASE WHEN t.type = 'income' THEN t.amount ELSE -t.amount END) AS net
         FROM transactions t CROSS JOIN (VALUES (0::smallint), (1::smallint), (2::smallint)) AS g (grain)
         WHERE t.book_id = $1 GROUP BY 1, 2, 3, 4, 5
       ), stored AS (
         SELECT book_id, grain, starts, category, type, entries, net FROM book_totals WHERE book_id = $1
       )
       SELECT (SELECT count(*) FROM ((TABLE recomputed EXCEPT TABLE stored) UNION ALL (TABLE stored EXCEPT TABLE recomputed)) AS d) AS mismatched,
              (SELECT count(*) FROM book_activity WHERE book_id = $1 AND action = 'created') AS created,
              (SELECT count(*) FROM book_activity WHERE book_id = $1 AND action = 'updated') AS updated,
              (SELECT count(*) FROM book_activity WHERE book_id = $1 AND action = 'deleted') AS deleted,
              (SELECT count(*) FROM transactions WHERE book_id = $1) AS entries`,
      [book!.id],
    );
    const history = { created: Number(check!.created), updated: Number(check!.updated), deleted: Number(check!.deleted) };
    const exact = Number(check!.mismatched) === 0 && Number(check!.entries) === writes.created - writes.deleted;
    // Every acknowledged write has its version, and nothing else has one (an amount PATCHed to
    // the value it had changes nothing, and records nothing: hence at most).
    const complete = history.created === writes.created && history.deleted === writes.deleted && history.updated <= writes.updated;
    log(
      `shared-book ${via}: ${JSON.stringify(result.statuses)}; deadlocks ${newDeadlocks}; totals ${exact ? 'exact' : `WRONG (${check!.mismatched} rows differ, ${check!.entries} entries)`}; ` +
        `writes ${JSON.stringify(writes)}, history ${JSON.stringify(history)}${complete ? '' : ' MISMATCH'}`,
    );
    return { ...result, checks: `deadlocks ${newDeadlocks}, totals ${exact ? 'exact' : 'WRONG'}, history ${complete ? 'complete' : 'MISMATCH'}` };
  } finally {
    await admin.end();
  }
}

const deadlocks = async (admin: pg.Client) =>
  Number((await admin.query<{ n: string }>('SELECT deadlocks AS n FROM pg_stat_database WHERE datname = current_database()')).rows[0]!.n);

const rows1M = (n: number) => (n >= 1_000_000 ? `${n / 1_000_000}M` : n >= 1_000 ? `${n / 1_000}k` : String(n));

async function largeBook(
  server: Awaited<ReturnType<typeof offlineWithStats>>,
  via: string,
  seeded: Seeded,
  books: Awaited<ReturnType<typeof seedLargeBooks>>,
  meter: Meter,
): Promise<Result[]> {
  const results: Result[] = [];
  const headers = { authorization: `Bearer ${seeded.tokens[0]}` };
  for (const { label, book, rows, recent } of books) {
    const middle = Math.max(1, Math.floor(rows / 50 / 2)); // 50 rows a page (the default)
    const ops: Array<[string, string]> = [
      ['list page 1', `/api/transactions/?book=${book}`],
      ['list middle page', `/api/transactions/?book=${book}&page=${middle}`],
      ['summary', `/api/transactions/summary/?book=${book}`],
      ['export ~1k rows', `/api/transactions/export/?book=${book}&date_from=${recent}`],
    ];
    for (const [op, path] of ops) {
      await autocannon({ url: server.offline.baseUrl, connections: 1, amount: 3, timeout: 60, requests: [{ method: 'GET', path, headers }] });
      server.reset();
      const done = meter(server.offline.pid);
      const out = await autocannon({
        url: server.offline.baseUrl,
        connections: 1,
        amount: largeRequests,
        timeout: 60,
        requests: [{ method: 'GET', path, headers }],
      });
      const cpu = done();
      const row = { scenario: `${label}: ${op}`, via, clients: 1, requests: out.requests.total };
      const result = httpResult(row, out, Math.max(0.001, out.duration), cpu, server.stats);
      results.push(result);
      log(`${via} ${label} ${op}: p50 ${out.latency.p50} ms, ${JSON.stringify(result.statuses)}`);
    }
  }
  return results;
}

async function main() {
  const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  const date = new Date().toISOString();
  log(`budget ${budget} connections, clients ${clientCounts.join(',')}, ${seconds}s per point; scenarios ${scenarios.join(',')}; via ${vias.join(',')}; modes ${modes.join(',')}`);
  log(`machine: ${machine}`);
  if (vias.includes('pooled') && !pgbouncerBinary()) {
    log(`${INSTALL_HINT} Measuring direct only.`);
    vias = vias.filter((v) => v !== 'pooled');
  }
  if (modes.includes('django') && !djangoInstalled()) {
    log(`${DJANGO_INSTALL_HINT} Leaving mode django out.`);
    modes = modes.filter((m) => m !== 'django');
  }
  const dir = mkdtempSync(join(tmpdir(), 'cashbook-bench-'));
  const dataDir = join(dir, 'pg');
  const db = await startLocalDatabase({
    dataDir,
    persistent: false,
    connectionLimit: budget,
    adminPassword: randomBytes(12).toString('hex'),
    appPassword: randomBytes(12).toString('hex'),
    log: process.env.BENCH_PG_LOG ? (line) => process.stderr.write(line) : undefined,
    flags: statementStats
      ? ['-c', 'shared_preload_libraries=pg_stat_statements', '-c', 'pg_stat_statements.track_planning=on', '-c', 'pg_stat_statements.track=all']
      : [],
  });
  statementsAdminUrl = db.adminUrl;
  if (statementStats) await adminQuery('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
  const pmPid = postmasterPid(dataDir);
  const jwtSecret = randomBytes(32).toString('hex');
  // Tokens must outlive the whole run.
  const env = { DATABASE_URL: db.appUrl, JWT_SECRET: jwtSecret, LOG_LEVEL: 'info', JWT_ACCESS_TTL_SECONDS: '86400' };
  Object.assign(process.env, env);
  const results: Result[] = [];
  let cold: Awaited<ReturnType<typeof coldStarts>> = [];
  try {
    if (scenarios.includes('cold-start')) {
      log('cold start: each function bundled as deployed, imported by a fresh Node process 5 times');
      cold = await coldStarts(env);
    }
    log('seeding: one user per client, 100 transactions each');
    const seeded = await seed(db.adminUrl, Math.max(...clientCounts, scenarios.includes('shared-book') ? SHARED_MEMBERS : 1));
    const old = modes.includes('django') ? await seedOldBackend(db.adminUrl, seeded.tokens.length) : undefined;
    const books = scenarios.includes('large-book') ? await seedLargeBooks(db.adminUrl, seeded) : [];
    const bundles = modes.includes('inprocess')
      ? await bundle({ list: 'list-transactions', create: 'create-transaction', login: 'obtain-token' }, join(root, 'bench/.build/inprocess'))
      : {};

    for (const via of vias) {
      // Direct runs first, then PgBouncer: its idle server connections would take the role's slots.
      const bouncer = via === 'pooled' ? await startPgBouncer({ dir: join(dir, 'pgbouncer'), serverUrl: db.appUrl, adminUrl: db.adminUrl, poolSize: budget }) : undefined;
      const url = bouncer?.appUrl ?? db.appUrl;
      const meter: Meter = (offlinePid) => cpuMeter(pmPid, bouncer, offlinePid);
      const ours: Served = { role: APP_ROLE, database: APP_DATABASE, bouncer };
      const record = async (run: () => Promise<Omit<Result, 'pgCpuPerOk'> & Partial<Result>>, cpuAlready = false, served = ours) => {
        const sampler = await startSampler(db.adminUrl, served.role);
        const done = meter();
        const result = await run();
        const cpu = done();
        const ok = Object.entries(result.statuses).reduce((s, [k, v]) => s + (isOk(k) || k === 'ok' ? v : 0), 0);
        const full: Result = {
          ...result,
          ...(cpuAlready
            ? {}
            : cpuPerOk(cpu, ok)),
          peakConnections: await sampler.stop(),
          leftConnections: await leftover(db.adminUrl, served),
        };
        results.push(full);
        log(`${full.scenario} ${via} ${full.mode} ×${full.clients}: ${full.okPerSecond} ok/s, ${full.okPercent}% ok, p99 ${full.p99} ms, PG CPU ${full.pgCpuPerOk} ms/ok, peak ${full.peakConnections}`);
        const byKind = Object.entries(full.pgCpuByKind ?? {}).map(([kind, ms]) => `${kind} ${ms}`);
        log(`${full.scenario} ${via} ${full.mode} ×${full.clients}: PG CPU ms/ok by process: ${byKind.join(', ') || 'none'}`);
      };
      try {
        if (scenarios.includes('raw')) await record(() => rawScenario(url, via, budget));
        const load = scenarios.filter((s) => LOAD_SCENARIOS.includes(s));
        for (const runner of modes.includes('http') && (load.length || books.length || scenarios.includes('shared-book')) ? runners : []) {
          const server = await offlineWithStats(url, via === 'pooled', jwtSecret, runner);
          const first = runner === runners[0];
          try {
            for (const scenario of load) {
              for (const clients of clientCounts) await record(() => httpLoad(server, scenario, via, clients, seeded, meter), true);
            }
            if (!first) continue; // the scenarios below are measured with the first runner only
            if (scenarios.includes('shared-book')) {
              const sampler = await startSampler(db.adminUrl);
              const row = await sharedBook(server, via, seeded, meter, db.adminUrl);
              results.push({ ...row, peakConnections: await sampler.stop(), leftConnections: await leftover(db.adminUrl, ours) });
            }
            if (books.length) {
              const sampler = await startSampler(db.adminUrl);
              const rows = await largeBook(server, via, seeded, books, meter);
              const peak = await sampler.stop();
              results.push(...rows.map((r) => ({ ...r, peakConnections: peak })));
            }
          } finally {
            await server.offline.stop();
          }
        }
        const oldLoad = load.filter((s) => s === 'list' || s === 'create' || s === 'mixed');
        if (old && oldLoad.length) {
          // Its own PgBouncer (same settings) in front of its own role; this project's keeps its idle servers.
          const oldBouncer =
            via === 'pooled' ? await startPgBouncer({ dir: join(dir, 'pgbouncer-old'), serverUrl: old.url, adminUrl: db.adminUrl, poolSize: budget }) : undefined;
          const oldMeter: Meter = (pid) => cpuMeter(pmPid, oldBouncer, pid);
          const served: Served = { role: OLD_ROLE, database: OLD_DATABASE, bouncer: oldBouncer };
          let server: OldBackend | undefined;
          try {
            server = await startOldBackend(oldBouncer?.appUrl ?? old.url, jwtSecret);
            const target: LoadServer = { offline: server, runner: 'workers', mode: 'django', role: OLD_ROLE };
            for (const scenario of oldLoad) {
              for (const clients of clientCounts) await record(() => httpLoad(target, scenario, via, clients, old.seeded, oldMeter), true, served);
            }
          } finally {
            await server?.stop();
            await oldBouncer?.stop();
          }
        }
        if (modes.includes('inprocess')) {
          process.env.DATABASE_URL = url;
          for (const scenario of load) {
            for (const clients of clientCounts) await record(() => inProcessScenario(scenario, via, clients, seeded, bundles));
          }
          process.env.DATABASE_URL = db.appUrl;
        }
      } finally {
        await bouncer?.stop();
      }
    }
  } finally {
    await db.server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\nCashbook API bench, ${date}\nmachine: ${machine} (nproc ${cpus().length})`);
  console.log(`scenarios: ${scenarios.join(', ')}; via: ${vias.join(', ')}; clients: ${clientCounts.join(', ')}; ${seconds} s per point; role CONNECTION LIMIT ${budget} (SCRAM); PgBouncer pool ${budget}, transaction mode`);
  if (cold.length) printCold(cold);
  printTable(results);
  mkdirSync(join(root, 'bench'), { recursive: true });
  const file = join(root, 'bench/results.json');
  writeFileSync(
    file,
    `${JSON.stringify({ date, machine: { nproc: cpus().length, model: cpus()[0]?.model, node: process.version }, budget, clients: clientCounts, seconds, scenarios, vias, coldStarts: cold, results }, null, 2)}\n`,
  );
  log(`wrote ${file}`);
}

function printCold(rows: Array<{ name: string; p50: number; max: number }>) {
  const width = Math.max(...rows.map((r) => r.name.length));
  console.log(`\nModule initialisation (fresh process, import of the bundle; ms, median of 5 / max):`);
  for (const r of rows) console.log(`  ${r.name.padEnd(width)}  ${String(r.p50).padStart(6)}  ${String(r.max).padStart(6)}`);
}

function printTable(results: Result[]) {
  const head = ['scenario', 'via', 'mode', 'clients', 'ok/s', 'ok %', 'mean ms', 'p50 ms', 'p99 ms', 'p99÷mean', 'PG CPU ms/ok', 'PgBouncer CPU ms/ok', 'offline CPU ms/ok', 'load gen CPU ms/ok', 'attempts/ok', 'held ms', 'peak', 'left', 'statuses'];
  const cell = (v: number | undefined) => (v === undefined ? '' : String(v));
  const rows = results.map((r) => [
    r.scenario,
    r.via,
    r.mode,
    String(r.clients),
    String(r.okPerSecond),
    String(r.okPercent),
    String(r.mean),
    String(r.p50),
    String(r.p99),
    r.mean ? (r.p99 / r.mean).toFixed(1) : '',
    cell(r.pgCpuPerOk),
    cell(r.bouncerCpuPerOk),
    cell(r.nodeCpuPerOk),
    cell(r.loadCpuPerOk),
    cell(r.attemptsPerOk),
    cell(r.heldMs),
    cell(r.peakConnections),
    cell(r.leftConnections),
    Object.entries(r.statuses).map(([k, v]) => `${k}:${v}`).join(' '),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  console.log(`\n${line(head)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${rows.map(line).join('\n')}\n`);
  for (const r of results.filter((x) => x.checks)) console.log(`${r.scenario} ${r.via}: ${r.checks}`);
}

await main();
