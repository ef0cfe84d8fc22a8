// Admission for still images by memory: every decoded pixel costs a few bytes per channel through
// decode, model and encode, so stills in flight share a pixel budget. A request is admitted (and
// only then decoded) while its pixels fit; otherwise it waits in a short queue, and when that is
// full it is refused with 503 `busy` and Retry-After instead of piling up. After a large still,
// a garbage collection is asked for, so the engine gives its memory back instead of holding it
// until V8 happens to collect (its JS heap is tiny, its buffers are not).
import { MAX_FRAME_SIDE } from '../frame.js';
import { collectGarbage } from '../workers/gc.js';

export class BusyError extends Error {
  readonly code = 'busy';
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message);
    this.name = 'BusyError';
  }
}

/** One largest still (8192x8192, image and plate) at a time, or many ordinary ones. */
export const STILL_PIXEL_BUDGET = MAX_FRAME_SIDE * MAX_FRAME_SIDE;
export const STILL_QUEUE_LENGTH = 4;
/** Stills at least this large are followed by a garbage collection. */
const COLLECT_AFTER_PIXELS = 4096 * 4096;

export class PixelBudget {
  private used = 0;
  private readonly waiting: { pixels: number; admit: () => void }[] = [];

  constructor(
    readonly budget = STILL_PIXEL_BUDGET,
    private readonly queueLength = STILL_QUEUE_LENGTH,
  ) {}

  get inUse(): number {
    return this.used;
  }

  /** Resolves with a release function once `pixels` fit; throws BusyError when the queue is full. */
  async acquire(pixels: number): Promise<() => void> {
    const cost = Math.min(pixels, this.budget); // a request larger than the budget runs alone
    if (this.waiting.length === 0 && this.used + cost <= this.budget) {
      this.used += cost;
    } else {
      if (this.waiting.length >= this.queueLength) {
        throw new BusyError(`the engine is busy with other images (${this.waiting.length} waiting); try again shortly`, 2);
      }
      await new Promise<void>((admit) => this.waiting.push({ pixels: cost, admit }));
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= cost;
      this.admitWaiting();
      if (pixels >= COLLECT_AFTER_PIXELS && collectGarbage) setImmediate(collectGarbage);
    };
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0]!.pixels <= this.budget) {
      const next = this.waiting.shift()!;
      this.used += next.pixels;
      next.admit();
    }
  }
}
