// A plain progress bar on stderr for long CLI runs (folders of stills, clip frames). On a
// terminal it redraws one line; in a pipe or log it prints a line at most every few seconds and
// at the end, so logs stay readable.
import type { Writable } from 'node:stream';

export interface ProgressOptions {
  /** What is counted, e.g. "images" or "frames". */
  readonly unit?: string;
  readonly stream?: Writable & { isTTY?: boolean; columns?: number };
  /** Minimum time between lines when not on a terminal. */
  readonly logIntervalMs?: number;
}

const BAR_WIDTH = 24;
const REDRAW_MS = 100;

export class ProgressBar {
  private done = 0;
  private readonly started = performance.now();
  private lastDraw = -Infinity;
  private lastLine = '';
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly unit: string;
  private readonly logIntervalMs: number;

  constructor(
    private readonly total: number,
    options: ProgressOptions = {},
  ) {
    this.stream = options.stream ?? process.stderr;
    this.tty = this.stream.isTTY === true;
    this.unit = options.unit ?? 'items';
    this.logIntervalMs = options.logIntervalMs ?? 2_000;
  }

  /** Marks `n` more items done; `detail` (e.g. the current file) is shown after the counts. */
  tick(n = 1, detail = ''): void {
    this.update(this.done + n, detail);
  }

  update(done: number, detail = ''): void {
    this.done = Math.min(done, this.total);
    const now = performance.now();
    const finished = this.done >= this.total;
    const interval = this.tty ? REDRAW_MS : this.logIntervalMs;
    if (!finished && now - this.lastDraw < interval) return;
    this.lastDraw = now;
    this.draw(this.render(detail));
  }

  /** Prints a message above the bar without garbling it. */
  log(message: string): void {
    if (this.tty && this.lastLine) this.stream.write('\r\x1b[K');
    this.stream.write(`${message}\n`);
    if (this.tty && this.lastLine) this.stream.write(this.lastLine);
  }

  /** Ends the bar's line (on a terminal) so later output starts on a fresh one. */
  finish(): void {
    if (this.tty && this.lastLine) this.stream.write('\n');
    this.lastLine = '';
  }

  /** "[#########---------------]  37/100  37%  4.1 images/s  eta 0:15  name" */
  render(detail = ''): string {
    const fraction = this.total > 0 ? this.done / this.total : 1;
    const filled = Math.round(fraction * BAR_WIDTH);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = seconds > 0 ? this.done / seconds : 0;
    const eta = rate > 0 && this.done < this.total ? `  eta ${clock((this.total - this.done) / rate)}` : '';
    const counts = `${String(this.done).padStart(String(this.total).length)}/${this.total}`;
    const line = `[${'#'.repeat(filled)}${'-'.repeat(BAR_WIDTH - filled)}] ${counts} ${String(Math.floor(fraction * 100)).padStart(3)}%  ${rate.toFixed(1)} ${this.unit}/s${eta}`;
    return detail ? `${line}  ${detail}` : line;
  }

  private draw(line: string): void {
    if (this.tty) {
      const max = (this.stream.columns ?? 100) - 1;
      this.lastLine = line.length > max ? line.slice(0, max) : line;
      this.stream.write(`\r\x1b[K${this.lastLine}`);
    } else {
      this.stream.write(`${line}\n`);
    }
  }
}

/** Seconds as m:ss (or h:mm:ss). */
export function clock(totalSeconds: number): string {
  const s = Math.max(0, Math.round(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}
