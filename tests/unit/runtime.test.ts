import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// .ci/run runs the suite twice — on the machine's Node and on Node 24 (Lambda's nodejs24.x) —
// and says which major it expects; this checks the tests and their child processes got it.

const expected = process.env.CI_EXPECT_NODE_MAJOR;

describe('runtime', () => {
  it.runIf(expected)('runs the suite on the Node major CI asked for', () => {
    expect(process.versions.node.split('.')[0]).toBe(expected);
  });

  it.runIf(expected)('gives child processes that `node` resolves for (serverless, offline) the same Node', () => {
    const child = execFileSync('node', ['-p', 'process.versions.node'], { encoding: 'utf8' }).trim();
    expect(child.split('.')[0]).toBe(expected);
  });

  it('runs on Node 20 or later (the code targets node20; Lambda runs 24)', () => {
    expect(Number(process.versions.node.split('.')[0])).toBeGreaterThanOrEqual(20);
  });
});
