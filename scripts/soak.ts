// `npm run soak`: drives `npm start` as a user runs it (embedded PostgreSQL, no DATABASE_URL) with
// a mixed API load (receipts uploaded to the local S3 included), a bulk insert through an admin connection and thousands of new files under
// the project, sampling the RSS of every process it started; then presses Ctrl-C (SIGINT to npm
// start's process group). It passes when every request got its expected answer, every process's
// memory stayed flat after the warm-up (at most 10% growth) and everything stopped within 5 s.
//
//   SOAK_SECONDS=300 SOAK_WARMUP_SECONDS=60 SOAK_CLIENTS=4 SOAK_ROWS=1000000 npm run soak
//
// Its own data directory (LOCAL_DATA_DIR, a temporary folder) and ports: the user's data and a
// running `npm start` are left alone.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { freePort } from './lib/embedded-postgres.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const seconds = num('SOAK_SECONDS', 300);
const warmup = num('SOAK_WARMUP_SECONDS', 60);
const clients = num('SOAK_CLIENTS', 4);
const rows = num('SOAK_ROWS', 1_000_000);
const files = 3_000;
const maxGrowth = 0.1;
const stopBudgetMs = 5_000;
const sampleMs = 2_000;
const log = (line: string) => console.log(`[soak] ${line}`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const mb = (bytes: number) => Math.round(bytes / 2 ** 20);

// ---- processes: the tree under `npm start` (plus anything left in its process group) ----

interface Proc {
  pid: number;
  ppid: number;
  pgid: number;
  started: string;
  state: string;
}

function readProc(pid: number): Proc | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which may itself contain spaces and parentheses.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { pid, state: f[0]!, ppid: Number(f[1]), pgid: Number(f[2]), started: f[19]! };
  } catch {
    return undefined;
  }
}

function allProcs(): Proc[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .map((d) => readProc(Number(d)))
    .filter((p): p is Proc => p !== undefined);
}

function tree(rootPid: number): Proc[] {
  const procs = allProcs();
  const mine = new Set([rootPid]);
  for (let grew = true; grew; ) {
    grew = false;
    for (const p of procs) {
      if (!mine.has(p.pid) && (mine.has(p.ppid) || p.pgid === rootPid)) {
        mine.add(p.pid);
        grew = true;
      }
    }
  }
  return procs.filter((p) => mine.has(p.pid) && p.state !== 'Z');
}

/** A readable name: which node program, or PostgreSQL's own process title. */
function label(pid: number): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
    const comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    const args = argv.join(' ');
    if (comm === 'node' || argv[0]?.endsWith('node')) {
      if (/serverless/.test(args)) return 'node serverless offline';
      if (/--import|--require|loader/.test(args)) return 'node start.ts';
      if (/tsx/.test(args)) return 'node tsx';
      return `node ${args.slice(0, 40)}`;
    }
    if (comm.startsWith('postgres')) return args.startsWith('postgres:') ? args.replace(/ (\S+@\S+|\d+\.\d+).*/, '') : 'postgres';
    return comm;
  } catch {
    return '?';
  }
}

interface Sample {
  t: number;
  procs: { pid: number; label: string; rss: number; shared: number }[];
}

function sample(rootPid: number, t: number): Sample {
  const procs: Sample['procs'] = [];
  for (const p of tree(rootPid)) {
    try {
      const status = readFileSync(`/proc/${p.pid}/status`, 'utf8');
      const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? 0) * 1024;
      procs.push({ pid: p.pid, label: label(p.pid), rss: kb('VmRSS'), shared: kb('RssShmem') });
    } catch {
      // exited between the listing and the read
    }
  }
  return { t, procs };
}

// ---- the API load ----

interface Tally {
  requests: number;
  unexpected: number;
  byRoute: Map<string, Map<number | string, number>>;
  firstUnexpected: string[];
  latencies: number[];
}
const tally: Tally = { requests: 0, unexpected: 0, byRoute: new Map(), firstUnexpected: [], latencies: [] };

/** One request; `expect` is the answer it must get (or any of several). */
async function call(base: string, token: string, method: string, path: string, expect: number | number[], body?: unknown) {
  const expected = (status: number | string) => (Array.isArray(expect) ? expect : [expect]).includes(status as number);
  const route = `${method} ${path.replace(/[0-9a-f-]{36}/g, '{id}').replace(/\?.*/, '')}`;
  const started = performance.now();
  let status: number | string;
  let json: any;
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: {
        ...(body ? { 'content-type': 'application/json' } : {}),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(35_000), // the functions' 28 s timeout, plus margin
    });
    status = res.status;
    const text = await res.text();
    json = text && (res.headers.get('content-type') ?? '').includes('json') ? JSON.parse(text) : undefined;
    if (!expected(status) && tally.firstUnexpected.length < 5) tally.firstUnexpected.push(`${route} -> ${status} ${text.slice(0, 200)}`);
  } catch (err) {
    status = (err as Error).name === 'TimeoutError' ? 'timeout' : 'no answer';
    // fetch says only "fetch failed": the socket's own error (a reset, the other side closing a
    // kept-alive connection) is its cause.
    const cause = (err as Error).cause as { code?: string; message?: string } | undefined;
    const why = cause ? ` (${[cause.code, cause.message].filter(Boolean).join(': ')})` : '';
    if (tally.firstUnexpected.length < 5) tally.firstUnexpected.push(`${route} -> ${status}: ${(err as Error).message}${why}`);
  }
  tally.requests++;
  tally.latencies.push(performance.now() - started);
  if (!expected(status)) tally.unexpected++;
  const statuses = tally.byRoute.get(route) ?? new Map<number | string, number>();
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  tally.byRoute.set(route, statuses);
  return { status, json, ms: performance.now() - started };
}

const password = 'soak-password-1';

async function login(base: string, username: string): Promise<{ access: string; refresh: string }> {
  const { json } = await call(base, '', 'POST', '/api/token/', 200, { username, password });
  return { access: json?.access ?? '', refresh: json?.refresh ?? '' };
}

async function account(base: string, username: string): Promise<{ access: string; refresh: string }> {
  await call(base, '', 'POST', '/api/register/', 201, { username, password });
  return login(base, username);
}

const RECEIPT = Buffer.from(`%PDF-1.4\n${'soak receipt '.repeat(200)}\n%%EOF\n`);

/**
 * A receipt on an entry: the presigned POST straight to the local S3 (outside the API, counted as
 * `POST (s3 upload)`), /complete/, the entry's list with its download URL; every other one is
 * deleted again. The entries deleted later take their receipts with them (the queue and the sweep).
 */
async function receipt(base: string, token: string, entry: string, i: number): Promise<void> {
  const created = await call(base, token, 'POST', `/api/transactions/${entry}/attachments/`, 201, { filename: `receipt ${i}.pdf`, content_type: 'application/pdf', size: RECEIPT.length });
  const upload = created.json?.upload as { url: string; fields: Record<string, string> } | undefined;
  if (!upload) return;
  const form = new FormData();
  for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
  form.append('file', new Blob([RECEIPT], { type: 'application/pdf' }));
  const started = performance.now();
  const status = await fetch(upload.url, { method: 'POST', body: form, signal: AbortSignal.timeout(35_000) }).then((r) => r.status, () => 'no answer');
  const route = 'POST (s3 upload)';
  tally.requests++;
  tally.latencies.push(performance.now() - started);
  if (status !== 204) {
    tally.unexpected++;
    if (tally.firstUnexpected.length < 5) tally.firstUnexpected.push(`${route} -> ${status}`);
  }
  const statuses = tally.byRoute.get(route) ?? new Map<number | string, number>();
  statuses.set(status, (statuses.get(status) ?? 0) + 1);
  tally.byRoute.set(route, statuses);
  await call(base, token, 'POST', `/api/attachments/${created.json.id}/complete/`, 200);
  await call(base, token, 'GET', `/api/transactions/${entry}/attachments/`, 200);
  if (i % 2) await call(base, token, 'DELETE', `/api/attachments/${created.json.id}/`, 204);
}

/** One client: writes (create, patch, delete) mixed with reads and receipts, refreshing its token as it goes. */
async function client(base: string, n: number, until: () => boolean): Promise<void> {
  const tokens = await account(base, `soak-${process.pid}-${n}`);
  const ids: string[] = [];
  for (let i = 0; !until(); i++) {
    const created = await call(base, tokens.access, 'POST', '/api/transactions/', 201, {
      type: i % 3 ? 'expense' : 'income',
      amount: `${(i % 500) + 1}.25`,
      category: ['food', 'rent', 'salary', 'travel'][i % 4],
      description: `soak ${n}/${i}`,
    });
    if (created.json?.id) ids.push(created.json.id);
    const id = ids[ids.length - 1];
    await call(base, tokens.access, 'GET', '/api/transactions/?page_size=20', 200);
    if (id) {
      await call(base, tokens.access, 'GET', `/api/transactions/${id}/`, 200);
      await call(base, tokens.access, 'PATCH', `/api/transactions/${id}/`, 200, { category: 'edited' });
    }
    if (id && i % 5 === 1) await receipt(base, tokens.access, id, i);
    if (i % 5 === 0) {
      await call(base, tokens.access, 'GET', '/api/transactions/summary/', 200);
      await call(base, tokens.access, 'GET', '/api/books/', 200);
      await call(base, tokens.access, 'GET', '/api/me/', 200);
      if (ids.length > 10) await call(base, tokens.access, 'DELETE', `/api/transactions/${ids.shift()}/`, 204);
    }
    if (i % 50 === 0) {
      const { json } = await call(base, '', 'POST', '/api/token/refresh/', 200, { refresh: tokens.refresh });
      if (json?.access) tokens.access = json.access;
    }
  }
}

/**
 * The backends of the soak's own workload (the bulk insert's admin connection): not part of the
 * stack under test. One 1M-row INSERT holds its backend for a minute while its memory grows with
 * the statement (the totals triggers' transition tables); when that minute spans the whole
 * measured window, it would be judged as a leak.
 */
const workloadPids = new Set<number>();

/** INSERT … SELECT generate_series into one book, through a superuser connection. */
async function bulkInsert(base: string, adminUrl: string): Promise<number> {
  const username = `soak-${process.pid}-bulk`;
  await call(base, '', 'POST', '/api/register/', 201, { username, password });
  const admin = new pg.Client({ connectionString: adminUrl, application_name: 'soak-bulk' });
  await admin.connect();
  workloadPids.add((await admin.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]!.pid);
  const started = Date.now();
  try {
    await admin.query(
      `INSERT INTO transactions (user_id, book_id, type, amount, category, description, date)
       SELECT b.user_id, b.id, CASE WHEN g % 3 = 0 THEN 'income' ELSE 'expense' END, (g % 1000) + 1,
              'bulk', '', date '2025-01-01' + (g % 365)
       FROM books b JOIN users u ON u.id = b.user_id, generate_series(1, $2::int) g
       WHERE u.username = $1 AND b.is_default`,
      [username, rows],
    );
  } finally {
    await admin.end();
  }
  const took = Date.now() - started;
  // The API over the big book: answered, though a count and running balance over a million rows
  // may outlast the role's statement_timeout on a busy machine (then a clean 504, reported).
  const tokens = await login(base, username); // after the insert: it can outlast an access token
  for (const path of ['/api/transactions/?page_size=50', '/api/transactions/summary/']) {
    const { status, ms } = await call(base, tokens.access, 'GET', path, [200, 504]);
    log(`GET ${path} over the ${rows}-row book: ${status} in ${(ms / 1000).toFixed(1)} s`);
  }
  return took;
}

/** Files created (then removed) under the project: in its root, and inside the watched lib/. */
function churnFiles(): () => void {
  const dirs = [join(root, '.soak-files'), join(root, 'lib', '.soak-files')];
  for (const dir of dirs) {
    mkdirSync(dir, { recursive: true });
    for (let i = 0; i < files; i++) writeFileSync(join(dir, `f${i}.txt`), `${i}\n`);
  }
  return () => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true }));
}

// ---- the run ----

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}

async function main(): Promise<boolean> {
  const dataDir = mkdtempSync(join(tmpdir(), 'cashbook-soak-'));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(await freePort()),
    LOCAL_DB_PORT: String(await freePort()),
    LOCAL_DATA_DIR: dataDir,
  };
  delete env.DATABASE_URL;
  log(`npm start on port ${env.PORT}, data in ${dataDir}; load ${seconds} s (warm-up ${warmup} s), ${clients} clients, bulk insert of ${rows} rows, ${files} files x2`);

  // Its own process group, as in a terminal: Ctrl-C signals the whole group.
  const npm: ChildProcess = spawn('npm', ['start'], { cwd: root, env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const pid = npm.pid!;
  let output = '';
  // Read as it arrives: by the time the API is up, serverless-offline's route list may have pushed
  // the database's line out of the kept tail.
  let dbPort: string | undefined;
  const keep = (chunk: Buffer) => {
    const joined = output + chunk.toString();
    dbPort ??= /PostgreSQL on 127\.0\.0\.1:(\d+)/.exec(joined)?.[1];
    output = joined.slice(-20_000);
  };
  npm.stdout!.on('data', keep);
  npm.stderr!.on('data', keep);

  const seen = new Map<number, string>(); // pid -> start time, for the Ctrl-C check
  const samples: Sample[] = [];
  let cleanFiles = () => {};
  let ok = true;
  const t0 = Date.now();
  const now = () => (Date.now() - t0) / 1000;
  const sampler = setInterval(() => {
    const s = sample(pid, now());
    samples.push(s);
    for (const p of s.procs) seen.set(p.pid, readProc(p.pid)?.started ?? '');
  }, sampleMs);

  try {
    const ready = Date.now();
    while (!/Cashbook API is up/.test(output)) {
      if (npm.exitCode !== null || Date.now() - ready > 300_000) throw new Error(`npm start did not come up:\n${output}`);
      await sleep(200);
    }
    if (!dbPort) throw new Error(`npm start did not name its PostgreSQL port:\n${output}`);
    const adminPassword = readFileSync(join(dataDir, 'admin-password'), 'utf8').trim();
    const adminUrl = `postgres://postgres:${encodeURIComponent(adminPassword)}@127.0.0.1:${dbPort}/cashbook`;
    const base = `http://127.0.0.1:${env.PORT}`;
    log(`up after ${now().toFixed(1)} s`);

    const loadStart = now();
    const warm = loadStart + warmup;
    const end = loadStart + seconds;
    let bulkDone = false;
    const load = Promise.all(Array.from({ length: clients }, (_, n) => client(base, n, () => now() >= end && bulkDone)));
    const events = (async () => {
      while (now() < warm) await sleep(200);
      log(`warm-up over at ${now().toFixed(0)} s: bulk insert and file churn start`);
      const bulk = bulkInsert(base, adminUrl).then((ms) => log(`bulk insert of ${rows} rows took ${(ms / 1000).toFixed(1)} s (at ${now().toFixed(0)} s)`));
      await sleep(5_000);
      const churnStarted = Date.now();
      cleanFiles = churnFiles();
      log(`${2 * files} files created under the project in ${((Date.now() - churnStarted) / 1000).toFixed(1)} s (at ${now().toFixed(0)} s)`);
      await bulk.finally(() => (bulkDone = true));
    })();
    let printed = 0;
    const table = setInterval(() => {
      const s = samples[samples.length - 1];
      if (!s || s.t - printed < 30) return;
      printed = s.t;
      const byLabel = new Map<string, number>();
      for (const p of s.procs) byLabel.set(p.label.startsWith('postgres') ? 'postgres (all)' : p.label, (byLabel.get(p.label.startsWith('postgres') ? 'postgres (all)' : p.label) ?? 0) + p.rss);
      log(`t=${s.t.toFixed(0)}s requests=${tally.requests} unexpected=${tally.unexpected} RSS MB: ${[...byLabel].map(([l, b]) => `${l}=${mb(b)}`).join(', ')}`);
    }, 1_000);
    await Promise.all([load, events.catch((err) => { bulkDone = true; throw err; })]).finally(() => clearInterval(table));
    log(`load over at ${now().toFixed(0)} s`);

    // Memory: every process alive from the end of the warm-up to the end, RSS without shared memory
    // (PostgreSQL's shared buffers count in the RSS of each process that touches them).
    const window = samples.filter((s) => s.t >= warm);
    const quarter = Math.max(3, Math.floor(window.length / 4));
    const first = window.slice(0, quarter);
    const last = window.slice(-quarter);
    const privateRss = (s: Sample, p?: number) =>
      s.procs.filter((x) => p === undefined || x.pid === p).reduce((sum, x) => sum + x.rss - x.shared, 0);
    const longLived = first[0]!.procs.filter(
      (p) => !workloadPids.has(p.pid) && last[last.length - 1]!.procs.some((q) => q.pid === p.pid),
    );
    log(`memory after warm-up (${window.length} samples, ${(window[window.length - 1]!.t - window[0]!.t).toFixed(0)} s): private RSS, median of the first and last quarter`);
    const rowsOut: [string, number, number, number, number][] = longLived.map((p) => [
      `${p.label} (${p.pid})`,
      median(first.map((s) => privateRss(s, p.pid))),
      median(last.map((s) => privateRss(s, p.pid))),
      Math.max(...window.map((s) => privateRss(s, p.pid))),
      median(last.map((s) => s.procs.find((x) => x.pid === p.pid)?.rss ?? 0)),
    ]);
    rowsOut.push(['all processes', median(first.map((s) => privateRss(s))), median(last.map((s) => privateRss(s))), Math.max(...window.map((s) => privateRss(s))), median(last.map((s) => s.procs.reduce((a, x) => a + x.rss, 0)))]);
    for (const [name, before, after, max, rss] of rowsOut) {
      const growth = before ? after / before - 1 : 0;
      // Small processes move by a few MB without leaking: a failure needs 10% and 10 MB.
      const flat = growth <= maxGrowth || after - before < 10 * 2 ** 20;
      if (!flat) ok = false;
      log(`  ${name.padEnd(40)} ${String(mb(before)).padStart(5)} -> ${String(mb(after)).padStart(5)} MB (${(growth * 100).toFixed(1).padStart(5)}%, max ${mb(max)}, RSS incl. shared ${mb(rss)})${flat ? '' : '  GREW'}`);
    }

    if (workloadPids.size) log(`  not judged: the soak's own bulk-insert backend (pid ${[...workloadPids].join(', ')})`);

    const lat = [...tally.latencies].sort((a, b) => a - b);
    log(`requests: ${tally.requests}, unexpected answers: ${tally.unexpected}; p50 ${lat[Math.floor(lat.length / 2)]?.toFixed(0)} ms, p99 ${lat[Math.floor(lat.length * 0.99)]?.toFixed(0)} ms`);
    for (const [route, statuses] of tally.byRoute) log(`  ${route.padEnd(34)} ${[...statuses].map(([s, n]) => `${s}: ${n}`).join(', ')}`);
    for (const line of tally.firstUnexpected) log(`  unexpected: ${line}`);
    if (tally.unexpected > 0) ok = false;
  } catch (err) {
    ok = false;
    log(`FAILED: ${(err as Error).message}`);
  } finally {
    clearInterval(sampler);
    for (const p of tree(pid)) seen.set(p.pid, readProc(p.pid)?.started ?? '');
    // Ctrl-C: SIGINT to the process group, then wait for every process ever seen in the tree.
    const stopStarted = Date.now();
    try {
      process.kill(-pid, 'SIGINT');
    } catch {
      // already gone
    }
    const alive = () => [...seen].filter(([p, started]) => {
      const proc = readProc(p);
      return proc && proc.state !== 'Z' && proc.started === started;
    });
    while (alive().length && Date.now() - stopStarted < 15_000) await sleep(50);
    const stopMs = Date.now() - stopStarted;
    const left = alive();
    if (left.length || stopMs > stopBudgetMs) ok = false;
    log(`Ctrl-C: ${left.length ? `${left.length} processes still running after ${stopMs} ms (killed)` : `everything stopped in ${(stopMs / 1000).toFixed(1)} s`} (budget ${stopBudgetMs / 1000} s)`);
    for (const [p] of left) process.kill(p, 'SIGKILL');
    cleanFiles();
    rmSync(dataDir, { recursive: true, force: true });
  }
  if (!ok) log(`last output of npm start:\n${output.slice(-3_000)}`);
  log(ok ? 'PASS' : 'FAIL');
  return ok;
}

process.exit((await main()) ? 0 : 1);
