import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// `npm test` on a machine with only Node.js and npm: the suites that need PgBouncer or Django are
// skipped with one line each saying how to install them, and the run passes; under CI=true the
// same missing components fail the run. The real test files run in a child vitest with
// TEST_HIDE_COMPONENTS standing in for the missing packages.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const VITEST = fileURLToPath(new URL('../../node_modules/vitest/vitest.mjs', import.meta.url));
const FILES = ['tests/integration/pooler.test.ts', 'tests/integration/simplejwt.test.ts', 'tests/integration/import-django.test.ts'];

async function vitest(files: string[], env: Record<string, string>): Promise<{ code: number | null; lines: string[] }> {
  // The outer run's own settings (its worker ids, a pooler, CI) must not leak into the child.
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !/^(VITEST|TEST_POOLER$|TEST_HIDE_COMPONENTS$|CI$|FORCE_COLOR$)/.test(k)),
  );
  const child = spawn(process.execPath, [VITEST, 'run', ...files], { cwd: ROOT, env: { ...inherited, NO_COLOR: '1', ...env } });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
  return { code, lines: output.split('\n').map((l) => l.trim()) };
}

const skipLines = (lines: string[]) => lines.filter((l) => l.startsWith('skipped: '));
const summary = (lines: string[]) => lines.find((l) => /^\d+ passed, \d+ failed, \d+ skipped$/.test(l));

describe('npm test on a machine without PgBouncer and Django', () => {
  const bare = { TEST_HIDE_COMPONENTS: 'pgbouncer,django' };

  it('skips their suites with one line each saying how to install them, and passes', async () => {
    const run = await vitest(FILES, { ...bare, CI: '' });
    expect(skipLines(run.lines)).toEqual([
      expect.stringMatching(/^skipped: tests\/integration\/import-django\.test\.ts needs Django, DRF, SimpleJWT and psycopg2 for \/usr\/bin\/python3 \(Debian: apt-get install python3-django .*python3-psycopg2; \.ci\/run installs it\)/),
      expect.stringMatching(/^skipped: tests\/integration\/pooler\.test\.ts needs PgBouncer \(Debian: apt-get install pgbouncer.*; \.ci\/run installs it\)/),
      expect.stringMatching(/^skipped: tests\/integration\/simplejwt\.test\.ts needs Django, DRF, SimpleJWT and psycopg2 for \/usr\/bin\/python3 \(/),
    ]);
    // Next to the closing count, not lost in the scroll.
    const end = run.lines.findLastIndex((l) => l !== '');
    expect(run.lines.slice(end - 3, end + 1)).toEqual([...skipLines(run.lines), summary(run.lines)]);
    expect(summary(run.lines)).toMatch(/^[1-9]\d* passed, 0 failed, [1-9]\d* skipped$/);
    expect(run.code).toBe(0);
  }, 120_000);

  it('fails under CI=true, naming what is missing, instead of skipping', async () => {
    // Only the suites about the missing components (the rest of pooler.test.ts ran above).
    const run = await vitest([...FILES, '--testNamePattern', 'PgBouncer|Django|django'], { ...bare, CI: 'true' });
    expect(run.code).not.toBe(0);
    expect(skipLines(run.lines)).toEqual([]);
    // One failing test per gated suite: pooler 1, simplejwt 1, import-django 2 (import, cutover).
    expect(summary(run.lines)).toMatch(/^0 passed, 4 failed, /);
    const reasons = run.lines.filter((l) => l.startsWith('Error: missing under CI=true'));
    expect(reasons.join('\n')).toContain('PgBouncer (Debian: apt-get install pgbouncer');
    expect(reasons.join('\n')).toContain('Django, DRF, SimpleJWT and psycopg2 for /usr/bin/python3 (Debian: apt-get install');
  }, 120_000);

  it('fails a TEST_POOLER=pgbouncer run before anything starts, even off CI', async () => {
    const run = await vitest(['tests/unit/runtime.test.ts'], { TEST_HIDE_COMPONENTS: 'pgbouncer', TEST_POOLER: 'pgbouncer', CI: '' });
    expect(run.code).not.toBe(0);
    expect(run.lines.join('\n')).toContain('TEST_POOLER=pgbouncer needs PgBouncer (Debian: apt-get install pgbouncer');
  }, 60_000);
});
