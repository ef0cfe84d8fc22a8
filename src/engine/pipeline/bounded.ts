// A bounded async pipeline: source -> [prepare] -> transform -> sink, each stage running
// concurrently with at most `capacity` items waiting between two stages. The optional prepare
// stage (plate alignment in clip jobs) takes frame N+1 while transform (the model) has frame N:
// both run in worker threads (align/remote-aligner.ts, matting/ort-transport.ts), so they
// overlap each other and the ffmpeg decode and encode. A fast producer waits for the slow
// stage (backpressure) instead of filling memory; a failure anywhere aborts the rest, ends the
// source (its `finally` kills child processes) and rejects with the first error.

/** Milliseconds, for throughput reports: where the middle (model) stage spent its time. */
export interface StageTimes {
  /** Waiting for the source's next item (the source itself runs ahead concurrently). */
  source: number;
  /** Inside `transform`. */
  transform: number;
  /** Inside `sink`. */
  sink: number;
  /** Inside `prepare` (0 without one). */
  prepare: number;
  /** The prepare stage waiting for the source's next item: decode is slower than alignment. */
  prepareStarved: number;
  /** The prepare stage waiting for room before the transform: the transform is the bottleneck. */
  prepareBlocked: number;
  /** The transform stage waiting for input: the source is the bottleneck. */
  transformStarved: number;
  /** The transform stage waiting for room downstream: the sink is the bottleneck. */
  transformBlocked: number;
  /** The sink waiting for the transform's next item: the model (or what feeds it) is the bottleneck. */
  sinkStarved: number;
}

export interface PipelineOptions<A, B, P = A> {
  /** Called once with the pipeline's own signal, aborted on any failure: pass it to child processes. */
  readonly source: (signal: AbortSignal) => AsyncIterable<A>;
  /** Per-item work that overlaps the transform of the previous item (omit: items pass as they are). */
  readonly prepare?: (item: A, index: number, signal: AbortSignal) => Promise<P>;
  readonly transform: (item: P, index: number, signal: AbortSignal) => Promise<B>;
  readonly sink: (item: B, index: number, signal: AbortSignal) => Promise<void>;
  /** Items allowed to wait between two stages (default 2). */
  readonly capacity?: number;
  readonly signal?: AbortSignal;
}

/** A single-producer, single-consumer queue that makes `push` wait while it is full. */
export class BoundedQueue<T> {
  private readonly items: T[] = [];
  private closed = false;
  private failure: { error: unknown } | undefined;
  private wakeConsumer: (() => void) | undefined;
  private wakeProducer: (() => void) | undefined;

  constructor(readonly capacity: number) {
    if (!(capacity >= 1)) throw new Error('capacity must be at least 1');
  }

  get size(): number {
    return this.items.length;
  }

  async push(item: T): Promise<void> {
    while (this.items.length >= this.capacity && !this.failure) {
      await new Promise<void>((r) => (this.wakeProducer = r));
    }
    if (this.failure) throw this.failure.error;
    this.items.push(item);
    this.wakeConsumer?.();
  }

  /** The next item, or undefined once closed and drained. */
  async shift(): Promise<{ value: T } | undefined> {
    while (this.items.length === 0 && !this.closed && !this.failure) {
      await new Promise<void>((r) => (this.wakeConsumer = r));
    }
    if (this.failure) throw this.failure.error;
    if (this.items.length === 0) return undefined;
    const value = this.items.shift() as T;
    this.wakeProducer?.();
    return { value };
  }

  close(): void {
    this.closed = true;
    this.wakeConsumer?.();
  }

  /** Wakes both sides with an error (first one wins). */
  fail(error: unknown): void {
    this.failure ??= { error };
    this.wakeConsumer?.();
    this.wakeProducer?.();
  }
}

/** Runs the stages overlapped; resolves with the time each stage spent busy. */
export async function runPipeline<A, B, P = A>(options: PipelineOptions<A, B, P>): Promise<StageTimes> {
  const capacity = options.capacity ?? 2;
  const decoded = new BoundedQueue<A>(capacity);
  // Without a prepare stage the transform reads the decoded queue directly (P = A).
  const prepared = options.prepare ? new BoundedQueue<P>(capacity) : (decoded as unknown as BoundedQueue<P>);
  const transformed = new BoundedQueue<B>(capacity);
  const times: StageTimes = { source: 0, transform: 0, sink: 0, prepare: 0, prepareStarved: 0, prepareBlocked: 0, transformStarved: 0, transformBlocked: 0, sinkStarved: 0 };
  let firstError: { error: unknown } | undefined;
  const inner = new AbortController();
  const fail = (error: unknown): void => {
    firstError ??= { error };
    if (!inner.signal.aborted) inner.abort(firstError.error);
    decoded.fail(firstError.error);
    prepared.fail(firstError.error);
    transformed.fail(firstError.error);
  };
  const onAbort = (): void => fail(options.signal?.reason ?? new Error('aborted'));
  if (options.signal?.aborted) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const produce = async (): Promise<void> => {
    let it: AsyncIterator<A>;
    try {
      it = options.source(inner.signal)[Symbol.asyncIterator]();
    } catch (err) {
      fail(err);
      return;
    }
    try {
      for (;;) {
        const t0 = performance.now();
        const next = await it.next();
        times.source += performance.now() - t0;
        if (next.done) break;
        await decoded.push(next.value);
      }
      decoded.close();
    } catch (err) {
      fail(err);
    } finally {
      // Ends the source early on failure/abort so it can release its resources.
      if (firstError) await it.return?.().catch(() => undefined);
    }
  };

  const prepare = async (work: (item: A, index: number, signal: AbortSignal) => Promise<P>): Promise<void> => {
    try {
      for (let i = 0; ; i++) {
        const waited = performance.now();
        const item = await decoded.shift();
        times.prepareStarved += performance.now() - waited;
        if (!item) break;
        const t0 = performance.now();
        const out = await work(item.value, i, inner.signal);
        const t1 = performance.now();
        times.prepare += t1 - t0;
        await prepared.push(out);
        times.prepareBlocked += performance.now() - t1;
      }
      prepared.close();
    } catch (err) {
      fail(err);
    }
  };

  const transform = async (): Promise<void> => {
    try {
      for (let i = 0; ; i++) {
        const t0 = performance.now();
        const item = await prepared.shift();
        const t1 = performance.now();
        times.transformStarved += t1 - t0;
        if (!item) break;
        const out = await options.transform(item.value, i, inner.signal);
        const t2 = performance.now();
        times.transform += t2 - t1;
        await transformed.push(out);
        times.transformBlocked += performance.now() - t2;
      }
      transformed.close();
    } catch (err) {
      fail(err);
    }
  };

  const consume = async (): Promise<void> => {
    try {
      for (let i = 0; ; i++) {
        const waited = performance.now();
        const item = await transformed.shift();
        times.sinkStarved += performance.now() - waited;
        if (!item) break;
        const t0 = performance.now();
        await options.sink(item.value, i, inner.signal);
        times.sink += performance.now() - t0;
      }
    } catch (err) {
      fail(err);
    }
  };

  try {
    await Promise.all([produce(), ...(options.prepare ? [prepare(options.prepare)] : []), transform(), consume()]);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
  }
  if (firstError) throw firstError.error;
  return times;
}
