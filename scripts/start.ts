// `npm start`: the whole API on this machine. Without DATABASE_URL it starts an embedded
// PostgreSQL (data outside the project, kept across restarts: see defaultLocalDataDir) with an
// application role limited to DB_CONNECTION_LIMIT connections, migrates, and serves through
// serverless-offline. Receipts go to a local S3 server (s3rver, data beside PostgreSQL's).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { migrate } from './lib/database-setup.js';
import { freePort } from './lib/embedded-postgres.js';
import { defaultLocalDataDir, persistentSecret, startLocalDatabase, type LocalDatabase } from './lib/local-database.js';
import { LOCAL_S3_CREDENTIALS, startLocalS3, type LocalS3 } from './lib/local-s3.js';
import { localRunner, runnerArgs, type LocalRunner } from './lib/offline.js';
import { startPoolerIfAsked, type PgBouncer } from './lib/pgbouncer.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dataDir = process.env.LOCAL_DATA_DIR || defaultLocalDataDir(root, process.env.XDG_DATA_HOME);
const port = Number(process.env.PORT ?? 3000);
const connectionLimit = Number(process.env.DB_CONNECTION_LIMIT ?? 2);
const say = (line: string) => console.log(`[start] ${line}`);

async function database(): Promise<{ url: string; local?: LocalDatabase }> {
  if (process.env.DATABASE_URL) {
    say('DATABASE_URL is set: migrating that database');
    await migrate(process.env.DATABASE_URL, say);
    return { url: process.env.DATABASE_URL };
  }
  say(`starting embedded PostgreSQL (data in ${dataDir}, app role limited to ${connectionLimit} connections)`);
  if (existsSync(`${root}.data/postgres`)) {
    say(`.data/ in the project is an earlier version's data and is no longer used: move its contents to ${dataDir} (both stopped) to keep them, or delete it`);
  }
  const local = await startLocalDatabase({
    dataDir: `${dataDir}/postgres`,
    persistent: true,
    port: Number(process.env.LOCAL_DB_PORT ?? 54329),
    connectionLimit,
    adminPassword: persistentSecret(`${dataDir}/admin-password`),
    appPassword: persistentSecret(`${dataDir}/app-password`),
  });
  say(`PostgreSQL on 127.0.0.1:${local.server.port}`);
  return { url: local.appUrl, local };
}

const LOCAL_BUCKET = 'cashbook-local';

/** The local S3 server, unless ATTACHMENT_S3_ENDPOINT names another (then its bucket must exist). */
async function storage(): Promise<LocalS3 | undefined> {
  if (process.env.ATTACHMENT_S3_ENDPOINT) {
    say(`ATTACHMENT_S3_ENDPOINT is set: receipts go to ${process.env.ATTACHMENT_S3_ENDPOINT}`);
    return undefined;
  }
  const s3 = await startLocalS3({ directory: `${dataDir}/s3`, bucket: LOCAL_BUCKET, port: await freePort(Number(process.env.LOCAL_S3_PORT ?? 4569)) });
  say(`local S3 (s3rver) on ${s3.endpoint}, bucket ${s3.bucket} (data in ${dataDir}/s3)`);
  return s3;
}

function serve(url: string, pooled: boolean, lambdaPort: number, s3: LocalS3 | undefined): ChildProcess {
  const env = {
    ...process.env,
    ...(s3
      ? {
          ATTACHMENT_BUCKET: s3.bucket,
          ATTACHMENT_S3_ENDPOINT: s3.endpoint,
          AWS_ACCESS_KEY_ID: LOCAL_S3_CREDENTIALS.accessKeyId,
          AWS_SECRET_ACCESS_KEY: LOCAL_S3_CREDENTIALS.secretAccessKey,
        }
      : {}),
    DATABASE_URL: url,
    // Through PgBouncer backends outlive requests: the kept statements pay off (lib/kept.ts).
    ...(pooled ? { DB_POOLED: 'true' } : {}),
    JWT_SECRET: process.env.JWT_SECRET ?? persistentSecret(`${dataDir}/jwt-secret`),
    PORT: String(port),
    // Powertools dev mode: each invocation's log line pretty-printed for reading in a terminal.
    POWERTOOLS_DEV: process.env.POWERTOOLS_DEV ?? 'true',
  };
  const offline = spawn(`${root}node_modules/.bin/serverless`, ['offline', 'start', '--stage', 'local', '--lambdaPort', String(lambdaPort), ...runnerArgs(runner)], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let announced = false;
  const relay = (out: NodeJS.WriteStream) => (chunk: Buffer) => {
    out.write(chunk);
    if (!announced && /Server ready/.test(chunk.toString())) {
      announced = true;
      const base = `http://127.0.0.1:${port}`;
      console.log(`
Cashbook API is up at ${base}/api/
Try it:
  curl -s -X POST ${base}/api/register/ -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct-horse"}'
  TOKEN=$(curl -s -X POST ${base}/api/token/ -H 'Content-Type: application/json' -d '{"username":"alice","password":"correct-horse"}' | sed -E 's/.*"access":"([^"]+)".*/\\1/')
  curl -s -X POST ${base}/api/transactions/ -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"type":"income","amount":"150.00","category":"salary"}'
  curl -s ${base}/api/transactions/ -H "Authorization: Bearer $TOKEN"
Press Ctrl-C to stop.`);
    }
  };
  // serverless-offline announces itself on stderr; watch both streams.
  offline.stdout?.on('data', relay(process.stdout));
  offline.stderr?.on('data', relay(process.stderr));
  return offline;
}

const started = Date.now();
let offline: ChildProcess | undefined;
let local: LocalDatabase | undefined;
let pooler: PgBouncer | undefined;
let s3: LocalS3 | undefined;
let stopping = false;
let runner: LocalRunner = 'workers';

/** Ctrl-C ends everything within a few seconds, even a serverless-offline that stopped answering. */
async function stop(code: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  say('stopping');
  const child = offline;
  const offlineExited =
    child && child.exitCode === null && child.signalCode === null
      ? new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 3_000).unref();
        })
      : undefined;
  await Promise.all([offlineExited, pooler?.stop(), local?.server.stop(), s3?.stop()]);
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

try {
  runner = localRunner(process.env.LOCAL_RUNNER);
  if (runner === 'in-process') say('LOCAL_RUNNER=in-process: one module per function serves every request; source changes are not reloaded');
  const db = await database();
  local = db.local;
  // DB_POOLER=pgbouncer: the API talks to PgBouncer, as deployed functions talk to RDS Proxy.
  pooler = await startPoolerIfAsked(process.env.DB_POOLER, db.url, connectionLimit, say, local?.adminUrl);
  if (!stopping) s3 = await storage();
  if (!stopping) {
    offline = serve(pooler?.appUrl ?? db.url, pooler !== undefined, await freePort(3002), s3);
    offline.on('exit', (code) => void stop(code ?? 1));
    say(`ready to serve after ${((Date.now() - started) / 1000).toFixed(1)} s of setup`);
  }
} catch (err) {
  // One readable message (it carries PostgreSQL's last log lines when the server failed), no stack.
  console.error(`[start] ${err instanceof Error ? err.message : String(err)}`);
  await pooler?.stop();
  await local?.server.stop();
  await s3?.stop();
  process.exit(1);
}
