import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from './embedded-postgres.js';

// serverless-offline as a child process: the real HTTP API, each concurrent request in its own
// worker thread (like separate Lambda containers), or all in its own process (LocalRunner).

const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Offline {
  baseUrl: string;
  /** The serverless-offline process (its worker threads are inside it). */
  pid: number;
  stop(): Promise<void>;
}

/**
 * How serverless-offline runs the handlers (LOCAL_RUNNER, docs/configuration.md):
 *   workers     a worker thread per concurrent invocation of a function, as Lambda runs a
 *               container per concurrent invocation; rebuilt sources are reloaded. The default.
 *   in-process  `--useInProcess`: each function's bundle loaded once, in serverless-offline's own
 *               process, and every invocation of it served there, concurrently. 64 concurrent
 *               clients cost ~100 worker threads (one V8 heap each) in the other mode: ~21 ms of
 *               Node CPU per request instead of ~6 (`npm run bench -- --runners=...`). Sources
 *               changed after the start are NOT reloaded (Node caches an imported module).
 */
export type LocalRunner = 'workers' | 'in-process';
export const LOCAL_RUNNERS: readonly LocalRunner[] = ['workers', 'in-process'];

export function localRunner(value: string | undefined): LocalRunner {
  if (value === undefined || value === '') return 'workers';
  if ((LOCAL_RUNNERS as readonly string[]).includes(value)) return value as LocalRunner;
  throw new Error(`LOCAL_RUNNER must be one of ${LOCAL_RUNNERS.join(', ')}, not ${JSON.stringify(value)}`);
}

export const runnerArgs = (runner: LocalRunner) => (runner === 'in-process' ? ['--useInProcess'] : []);

export async function startOffline(
  env: Record<string, string>,
  timeoutMs = 90_000,
  stage = 'test',
  onLine?: (line: string) => void,
  runner: LocalRunner = 'workers',
): Promise<Offline> {
  const port = await freePort();
  const child: ChildProcess = spawn(
    `${root}node_modules/.bin/serverless`,
    ['offline', 'start', '--stage', stage, '--httpPort', String(port), '--lambdaPort', String(await freePort()), ...runnerArgs(runner)],
    { cwd: root, env: { ...process.env, ...env, PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  let partial = '';
  let ready = false;
  if (onLine) {
    // Handlers' log lines arrive on stdout (possibly split across chunks).
    child.stdout?.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) onLine(line.trim());
    });
  }
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serverless-offline did not start:\n${output}`)), timeoutMs);
    const watch = (chunk: Buffer) => {
      if (ready) return;
      output += chunk.toString();
      if (output.includes('Server ready')) {
        ready = true;
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', watch);
    child.stderr?.on('data', watch);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`serverless-offline exited (${code}):\n${output}`));
    });
  });
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
      }),
  };
}
