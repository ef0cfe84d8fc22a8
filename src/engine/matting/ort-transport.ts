// onnxruntime sessions that live in worker threads. onnxruntime-node's run() is a setImmediate
// around a blocking native call: on the engine's thread every model run (seconds for a large
// still) stalled health, uploads and the clip pipeline's other stages. Here the session is created
// and run in ./ort-worker.ts; this side keeps the small part of InferenceSession the session
// classes use. Inputs are copied once into fresh buffers that are transferred (the caller keeps
// its own: a plate or a frame is fed to several runs); outputs come back transferred, no copy.
//
// Two inference workers. A session opened inside withInferenceLane(1, ...) lives in the second
// one when the thread policy allows two runs at once (parallelRuns(): 2 on exactly 2 cores), else
// in the first with every other session. The fused model opens its learned prior there, so the
// prior and the plate graph of one frame run at the same time, each with the intra-op threads the
// policy gives it. A run whose inputs exceed ALONE_INPUT_BYTES waits until no other run is in
// progress, and none starts beside it (memory). A worker that dies fails its own in-flight runs
// with WorkerCrashError (`worker_crashed`); the next run there starts a new worker and opens the
// session again from the bytes kept here. Sessions in the other worker carry on.
import type * as ort from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { AsyncLocalStorage } from 'node:async_hooks';
import { copyForTransfer, WorkerClient, workerEntry, type TransferArray } from '../workers/client.js';
import { ALONE_INPUT_BYTES, parallelRuns } from './thread-policy.js';

/** The part of onnxruntime's InferenceSession the engine uses. */
export interface OrtSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>>;
  release(): Promise<void>;
}

type WireData = TransferArray;

/** A tensor as it crosses to and from the worker. */
export interface WireTensor {
  readonly type: Exclude<ort.Tensor.Type, 'string'>;
  readonly data: WireData;
  readonly dims: readonly number[];
}

const entry = workerEntry(import.meta.url, 'ort-worker');
const workers: readonly WorkerClient[] = [new WorkerClient('inference', entry), new WorkerClient('inference-2', entry)];

/** The first inference worker, where every session runs unless opened on lane 1 (engine shutdown closes it; tests kill it). */
export function inferenceWorker(): WorkerClient {
  return workers[0]!;
}

/** Both inference workers, by index. */
export function inferenceWorkers(): readonly WorkerClient[] {
  return workers;
}

/** 0: the first worker; 1: the second when two runs may go at once (parallelRuns()), else the first. */
export type InferenceLane = 0 | 1;

const lanes = new AsyncLocalStorage<InferenceLane>();

/** Sessions opened inside `fn` (also lazily, deeper in its calls) live on `lane`'s worker. */
export function withInferenceLane<T>(lane: InferenceLane, fn: () => T): T {
  return lanes.run(lane, fn);
}

/** One run as the worker saw it: which worker, and its clock (epoch milliseconds) around the native run. */
export interface RunSpan {
  readonly worker: number;
  readonly startedAt: number;
  readonly endedAt: number;
  readonly inputBytes: number;
}

const spanListeners = new Set<(span: RunSpan) => void>();

/** Calls `listener` after every run (tests prove which runs overlapped); returns the unsubscribe. */
export function onInferenceRun(listener: (span: RunSpan) => void): () => void {
  spanListeners.add(listener);
  return () => spanListeners.delete(listener);
}

/**
 * Admits runs: any number at once (each worker runs its own one after another), but a run with
 * inputs over ALONE_INPUT_BYTES only when nothing else runs, and nothing beside it. First come,
 * first served, so a large run waiting is not overtaken for ever by small ones.
 */
export class RunGate {
  private running = 0;
  private alone = false;
  private readonly waiting: { readonly alone: boolean; readonly go: () => void }[] = [];

  async enter(alone: boolean): Promise<() => void> {
    if (this.waiting.length === 0 && this.fits(alone)) this.start(alone);
    else await new Promise<void>((go) => this.waiting.push({ alone, go }));
    let left = false;
    return () => {
      if (left) return;
      left = true;
      if (--this.running === 0) this.alone = false;
      this.admit();
    };
  }

  private fits(alone: boolean): boolean {
    return alone ? this.running === 0 : !this.alone;
  }

  private start(alone: boolean): void {
    this.running++;
    this.alone = alone;
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.fits(this.waiting[0]!.alone)) {
      const next = this.waiting.shift()!;
      this.start(next.alone);
      next.go();
    }
  }
}

const gate = new RunGate();

/** What the worker answers a run with (./ort-worker.ts). */
export interface RunAnswer {
  readonly outputs: Record<string, WireTensor>;
  /** The worker's clock (epoch milliseconds) just before and after the native run. */
  readonly startedAt: number;
  readonly endedAt: number;
}

interface Remote {
  readonly id: number;
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
}

class WorkerOrtSession implements OrtSession {
  private remote: Promise<Remote> | undefined;
  private generation = -1;
  private released = false;
  private names: Remote = { id: 0, inputNames: [], outputNames: [] };
  /** Index of the worker this session lives in, fixed when it is created. */
  private readonly index: number = (lanes.getStore() ?? 0) === 1 && parallelRuns() >= 2 ? 1 : 0;
  private readonly worker: WorkerClient = workers[this.index]!;

  constructor(
    private readonly model: Uint8Array | string,
    private readonly options: ort.InferenceSession.SessionOptions,
  ) {}

  get inputNames(): readonly string[] {
    return this.names.inputNames;
  }

  get outputNames(): readonly string[] {
    return this.names.outputNames;
  }

  /** The session in the current worker, opened there on first use or after a crash. */
  open(): Promise<Remote> {
    if (!this.remote || this.generation !== this.worker.generation) {
      this.generation = this.worker.generation;
      const remote = this.worker.call<Remote>('open', { model: this.model, options: this.options });
      this.remote = remote;
      remote.then(
        (r) => (this.names = r),
        () => this.remote === remote && (this.remote = undefined),
      );
    }
    return this.remote;
  }

  async run(feeds: Record<string, ort.Tensor>, fetches?: readonly string[]): Promise<Record<string, ort.Tensor>> {
    if (this.released) throw new Error('onnxruntime session used after release()');
    const { id } = await this.open();
    let inputBytes = 0;
    for (const t of Object.values(feeds)) inputBytes += (t.data as WireData).byteLength;
    const leave = await gate.enter(inputBytes > ALONE_INPUT_BYTES);
    try {
      const wire: Record<string, WireTensor> = {};
      const transfer: ArrayBuffer[] = [];
      for (const [name, t] of Object.entries(feeds)) {
        const data = await copyForTransfer(t.data as WireData);
        wire[name] = { type: t.type as WireTensor['type'], data, dims: t.dims };
        transfer.push(data.buffer as ArrayBuffer);
      }
      const out = await this.worker.call<RunAnswer>('run', { id, feeds: wire, ...(fetches ? { fetches } : {}) }, transfer);
      const span: RunSpan = { worker: this.index, startedAt: out.startedAt, endedAt: out.endedAt, inputBytes };
      for (const listener of spanListeners) listener(span);
      const tensors: Record<string, ort.Tensor> = {};
      for (const [name, t] of Object.entries(out.outputs)) tensors[name] = new Tensor(t.type, t.data as never, t.dims);
      return tensors;
    } finally {
      leave();
    }
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const remote = this.remote;
    const generation = this.generation;
    this.remote = undefined;
    if (!remote || generation !== this.worker.generation) return; // never opened, or gone with its worker
    const { id } = await remote.catch(() => ({ id: 0 }));
    if (id !== 0 && generation === this.worker.generation) await this.worker.call('release', { id }).catch(() => undefined);
  }
}

/** Creates a session in an inference worker (see withInferenceLane); rejects with onnxruntime's error when it cannot. */
export async function createWorkerSession(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions): Promise<OrtSession> {
  const session = new WorkerOrtSession(model, options);
  await session.open();
  return session;
}
