// The engine's side of a worker thread that serves requests (./serve.ts): numbered requests,
// answers matched by id, and a worker that dies fails what it had in flight with a clear error
// and is replaced by a fresh one at the next request. Model runs and plate alignment block the
// thread they run on for up to seconds; in a worker they leave the engine's event loop free
// (health, uploads, progress) and can overlap each other.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EXIT_OP, type WorkerAnswer, type WorkerRequest } from './serve.js';

/** A worker died (crashed, was killed, ran out of memory) while a request was in flight. */
export class WorkerCrashError extends Error {
  readonly code = 'worker_crashed';
  /** A dead worker is replaced at once: asking again a second later reaches the new one. */
  readonly retryAfterSeconds = 1;
  constructor(message: string) {
    super(message);
    this.name = 'WorkerCrashError';
  }
}

/** An error thrown inside the worker, rebuilt here with its name, message and code. */
export class WorkerTaskError extends Error {
  constructor(
    message: string,
    override readonly name: string,
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * The URL of a worker entry module beside `importMetaUrl` with the caller's own extension: `.js`
 * in the built engine, `.ts` when running from source (tsx, vitest).
 */
export function workerEntry(importMetaUrl: string, basename: string): URL {
  const ext = importMetaUrl.endsWith('.ts') ? '.ts' : '.js';
  return new URL(`./${basename}${ext}`, importMetaUrl);
}

/** Starts a worker on an entry module; TypeScript entries (source runs) load through tsx. */
function startWorker(entry: URL, name: string): Worker {
  if (!entry.pathname.endsWith('.ts')) return new Worker(entry, { name });
  // Loader hooks of the parent do not reach a worker on Node 20: register tsx's inside it.
  const tsxPackage = createRequire(import.meta.url).resolve('tsx/package.json');
  const tsxApi = pathToFileURL(fileURLToPath(new URL('./dist/esm/api/index.mjs', pathToFileURL(tsxPackage)))).href;
  const boot = `import(${JSON.stringify(tsxApi)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); });`;
  return new Worker(boot, { eval: true, name });
}

/** The typed arrays that cross to a worker (tensor data, frames). */
export type TransferArray = Float32Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Int32Array | BigInt64Array | Float64Array | Uint32Array | BigUint64Array;

/**
 * Bytes copied between yields to the event loop. An 8192x8192 frame is 192 MiB; while a large
 * still runs, a 16 MiB chunk into fresh memory took about 23 ms on 2 busy cores, and two copies
 * run at once (the aligner's plate and frame), so each turn of the loop waited ~50 ms for them.
 */
const COPY_CHUNK_BYTES = 4 << 20;

/**
 * A copy of exactly `view` in a fresh buffer, to transfer to a worker while the caller keeps its
 * own (structured clone would copy the view's whole buffer; a Node Buffer's pooled memory cannot
 * be transferred). Large copies yield to the event loop between chunks, so health and uploads
 * are answered meanwhile.
 */
export async function copyForTransfer<T extends TransferArray>(view: T): Promise<T> {
  const Ctor = (Buffer.isBuffer(view) ? Uint8Array : view.constructor) as new (length: number) => T;
  const out = new Ctor(view.length);
  const step = Math.max(1, Math.floor(COPY_CHUNK_BYTES / view.BYTES_PER_ELEMENT));
  for (let i = 0; i < view.length; i += step) {
    if (i > 0) await new Promise((resolve) => setImmediate(resolve));
    (out as Uint8Array).set((view as Uint8Array).subarray(i, i + step), i);
  }
  return out;
}

const clients = new Set<WorkerClient>();
/** How long stop() waits for a run in progress to end. */
const STOP_DEADLINE_MS = 30_000;
let holders = 0;

/**
 * Marks the engine's workers in use by one engine; the returned function, called at its shutdown,
 * stops every worker once no engine holds them (tests run several engines in one process).
 */
export function holdWorkers(): () => Promise<void> {
  holders++;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    if (--holders === 0) await Promise.all([...clients].map((c) => c.stop()));
  };
}

interface Pending {
  readonly resolve: (value: unknown) => void;
  readonly reject: (err: Error) => void;
}

export class WorkerClient {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private generations = 0;
  private holders = 0;
  private idleTimer: NodeJS.Timeout | undefined;
  /** A worker kill() asked to exit: its answers no longer count. */
  private killed: Worker | undefined;

  constructor(
    /** Named in errors and thread names ("inference", "align"). */
    readonly name: string,
    private readonly entry: URL,
    /**
     * Stop the worker after this long with nothing in flight and nothing held (see hold()): its
     * memory (buffers an idle thread never garbage-collects, a WebAssembly heap that never
     * shrinks) goes back to the system. Undefined: it runs until stopped.
     */
    private readonly idleStopMs?: number,
  ) {
    clients.add(this);
  }

  /** Marks state kept in the worker (an open aligner): an idle stop would lose it. */
  hold(): void {
    this.holders++;
    clearTimeout(this.idleTimer);
  }

  release(): void {
    this.holders = Math.max(0, this.holders - 1);
    this.armIdleStop();
  }

  private armIdleStop(): void {
    clearTimeout(this.idleTimer);
    if (this.idleStopMs === undefined || !this.worker || this.pending.size > 0 || this.holders > 0) return;
    this.idleTimer = setTimeout(() => {
      if (this.pending.size === 0 && this.holders === 0) void this.stop('idle');
    }, this.idleStopMs).unref();
  }

  /** Counts workers that ended (died or stopped): what lived in an earlier one (open sessions) is gone. */
  get generation(): number {
    return this.generations;
  }

  /** The running worker's thread id, if one runs (tests kill it to prove recovery). */
  get threadId(): number | undefined {
    return this.worker?.threadId;
  }

  /** Requests sent and not answered yet. */
  get inFlight(): number {
    return this.pending.size;
  }

  /** Sends one request; `transfer` lists buffers that move to the worker (detached here). */
  call<T>(op: string, payload: unknown, transfer: readonly ArrayBuffer[] = []): Promise<T> {
    clearTimeout(this.idleTimer);
    const worker = this.running();
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      if (this.pending.size === 1) worker.ref();
      const request: WorkerRequest = { id, op, payload };
      try {
        worker.postMessage(request, [...transfer]);
      } catch (err) {
        this.settle(id);
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /**
   * Ends the worker (engine shutdown); requests still in flight fail. It exits between tasks
   * (never terminate() mid-run: see serve.ts). A later request starts a new one.
   */
  async stop(why: 'shutdown' | 'idle' = 'shutdown'): Promise<void> {
    clearTimeout(this.idleTimer);
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    this.generations++;
    this.failAll(new Error(`the engine's ${this.name} worker was stopped (${why === 'idle' ? 'idle' : 'engine shutdown'})`));
    await this.exit(worker, 0);
  }

  /**
   * Makes the running worker exit as a fatal error inside it would, with whatever is in flight
   * now or sent before it is gone failing as a crash (tests of recovery). A worker exits only
   * between tasks, so the task running when this is called still finishes: its answer is
   * dropped, as a crash would lose it, so the kill lands whenever anything is in flight.
   * Resolves once it is gone.
   */
  async kill(): Promise<void> {
    if (!this.worker) return;
    this.killed = this.worker;
    await this.exit(this.worker, 1);
  }

  private async exit(worker: Worker, code: number): Promise<void> {
    const gone = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    const request: WorkerRequest = { id: 0, op: EXIT_OP, payload: code };
    worker.ref(); // the engine waits for it: an idle (unref'd) worker would let the process end first
    worker.postMessage(request);
    // A run in progress finishes first; past the deadline the worker is left to end with the process.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([gone, new Promise<void>((resolve) => (timer = setTimeout(resolve, STOP_DEADLINE_MS)))]);
    clearTimeout(timer);
  }

  private running(): Worker {
    if (this.worker) return this.worker;
    const worker = startWorker(this.entry, `cleanplate-${this.name}`);
    // Idle workers do not keep the process alive; one with requests in flight does.
    worker.unref();
    worker.on('message', (answer: WorkerAnswer) => {
      if (this.killed === worker) return; // failed as a crash when it exits
      const pending = this.settle(answer.id);
      if (!pending) return;
      if (answer.error) pending.reject(new WorkerTaskError(answer.error.message, answer.error.name, answer.error.code));
      else pending.resolve(answer.result);
    });
    let failure: Error | undefined;
    worker.on('error', (err) => (failure = err));
    worker.on('exit', (code) => {
      if (this.killed === worker) this.killed = undefined;
      if (this.worker !== worker) return; // stopped on purpose
      this.worker = undefined;
      this.generations++;
      const why = failure ? `: ${failure.message}` : ` with code ${code}`;
      this.failAll(new WorkerCrashError(`the engine's ${this.name} worker died${why}; it is restarted for the next request, try again`));
    });
    this.worker = worker;
    return worker;
  }

  private settle(id: number): Pending | undefined {
    const pending = this.pending.get(id);
    this.pending.delete(id);
    if (pending && this.pending.size === 0) {
      this.worker?.unref();
      this.armIdleStop();
    }
    return pending;
  }

  private failAll(err: Error): void {
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) p.reject(err);
  }
}
