// A one-line progress report (rows, rows/s, ETA) rewritten in place — only on a terminal, so
// logs of a non-interactive run hold just the summary.

export class Progress {
  private done_ = 0;
  private readonly started = performance.now();
  private lastDraw = 0;

  constructor(
    private readonly out: NodeJS.WriteStream | undefined,
    private readonly total: number,
  ) {}

  advance(rows: number): void {
    this.done_ += rows;
    const now = performance.now();
    if (!this.out?.isTTY || now - this.lastDraw < 200) return;
    this.lastDraw = now;
    this.out.write(`\r${this.line(now)}\x1b[K`);
  }

  done(): void {
    if (this.out?.isTTY && this.lastDraw > 0) this.out.write(`\r${this.line(performance.now())}\x1b[K\n`);
  }

  private line(now: number): string {
    const seconds = (now - this.started) / 1000;
    const rate = this.done_ / Math.max(seconds, 0.001);
    const left = Math.max(0, this.total - this.done_);
    const eta = rate > 0 ? `${Math.ceil(left / rate)} s` : '?';
    const n = (x: number) => Math.round(x).toLocaleString('en-US');
    return `[import-django] ${n(this.done_)} / ${n(this.total)} rows · ${n(rate)} rows/s · ETA ${eta}`;
  }
}
