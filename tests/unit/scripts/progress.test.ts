import { afterEach, describe, expect, it, vi } from 'vitest';
import { Progress } from '../../../scripts/lib/progress.js';

const stream = (isTTY: boolean) => {
  const lines: string[] = [];
  return { out: { isTTY, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream, lines };
};

describe('import progress line', () => {
  afterEach(() => vi.useRealTimers());

  it('shows rows, rows/s and ETA in place on a terminal', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const { out, lines } = stream(true);
    const progress = new Progress(out, 100_000);
    vi.advanceTimersByTime(2_000);
    progress.advance(20_000);
    progress.done();
    expect(lines[0]).toMatch(/^\r\[import-django\] 20,000 \/ 100,000 rows · 10,000 rows\/s · ETA 8 s\x1b\[K$/);
    expect(lines.at(-1)).toMatch(/\n$/);
  });

  it('writes nothing when the output is not a terminal (logs get the summary only)', () => {
    const { out, lines } = stream(false);
    const progress = new Progress(out, 10);
    progress.advance(10);
    progress.done();
    expect(lines).toEqual([]);
  });
});
