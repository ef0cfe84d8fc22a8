// onnxruntime sessions that live in a worker thread. onnxruntime-node's run() is a setImmediate
// around a blocking native call: on the engine's thread every model run (seconds for a large
// still) stalled health, uploads and the clip pipeline's other stages. Here the session is created
// and run in ./ort-worker.ts; this side keeps the small part of InferenceSession the session
// classes use. Inputs are copied once into fresh buffers that are transferred (the caller keeps
// its own: a plate or a frame is fed to several runs); outputs come back transferred, no copy.
//
// One worker runs every session, so runs are serial as they were on the engine's thread, and the
// intra-op threads each session gets (thread-policy.ts) are all the inference threads there are.
// A worker that dies fails its in-flight runs with WorkerCrashError (`worker_crashed`); the next
// run starts a new worker and opens the session there again from the bytes kept here.
import type * as ort from 'onnxruntime-node';
import { Tensor } from 'onnxruntime-node';
import { copyForTransfer, WorkerClient, workerEntry, type TransferArray } from '../workers/client.js';

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

const worker = new WorkerClient('inference', workerEntry(import.meta.url, 'ort-worker'));

/** The inference worker (engine shutdown closes it; tests kill it). */
export function inferenceWorker(): WorkerClient {
  return worker;
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
    if (!this.remote || this.generation !== worker.generation) {
      this.generation = worker.generation;
      const remote = worker.call<Remote>('open', { model: this.model, options: this.options });
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
    const wire: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(feeds)) {
      const data = await copyForTransfer(t.data as WireData);
      wire[name] = { type: t.type as WireTensor['type'], data, dims: t.dims };
      transfer.push(data.buffer as ArrayBuffer);
    }
    const out = await worker.call<Record<string, WireTensor>>('run', { id, feeds: wire, ...(fetches ? { fetches } : {}) }, transfer);
    const tensors: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(out)) tensors[name] = new Tensor(t.type, t.data as never, t.dims);
    return tensors;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    const remote = this.remote;
    const generation = this.generation;
    this.remote = undefined;
    if (!remote || generation !== worker.generation) return; // never opened, or gone with its worker
    const { id } = await remote.catch(() => ({ id: 0 }));
    if (id !== 0 && generation === worker.generation) await worker.call('release', { id }).catch(() => undefined);
  }
}

/** Creates a session in the inference worker; rejects with onnxruntime's error when it cannot. */
export async function createWorkerSession(model: Uint8Array | string, options: ort.InferenceSession.SessionOptions): Promise<OrtSession> {
  const session = new WorkerOrtSession(model, options);
  await session.open();
  return session;
}
