// Plate alignment off the engine's thread: a clip job's prepare stage (pipeline/bounded.ts)
// aligns frame N+1 in the align worker while the inference worker mattes frame N. Same interface
// as PlateAligner; mode "off" needs no worker (the plate is used as given).
import type { AlignMode, AlignReport } from '../../shared/api.js';
import type { Frame } from '../frame.js';
import { copyForTransfer, WorkerClient, workerEntry } from '../workers/client.js';
import type { AlignAnswer } from './align-worker.js';
import { PlateAligner, type AlignerOptions } from './aligner.js';

export interface Aligner {
  readonly plate: Frame;
  readonly mode: AlignMode;
  plateFor(frame: Frame): Promise<Frame>;
  report(): AlignReport;
  /** Frees the aligner's state in the worker (also done when it is garbage collected). */
  close(): void;
}

/** An idle align worker ends after this long: a large still's OpenCV heap never shrinks. */
const ALIGN_IDLE_STOP_MS = 5_000;

const worker = new WorkerClient('align', workerEntry(import.meta.url, 'align-worker'), ALIGN_IDLE_STOP_MS);

/** The align worker (tests kill it to prove recovery). */
export function alignWorker(): WorkerClient {
  return worker;
}

const forget = new FinalizationRegistry<{ id: number; generation: number }>(({ id, generation }) => dispose(id, generation));

function dispose(id: number, generation: number): void {
  worker.release();
  if (generation === worker.generation) worker.call('dispose', { id }).catch(() => undefined);
}

let nextId = 1;

/** A frame copied into a buffer of its own, listed for transfer (the caller keeps its frame). */
async function copied(frame: Frame): Promise<{ frame: Frame; transfer: ArrayBuffer[] }> {
  const data = await copyForTransfer(frame.data);
  return { frame: { ...frame, data }, transfer: [data.buffer as ArrayBuffer] };
}

class RemoteAligner implements Aligner {
  private readonly id = nextId++;
  private readonly generation = worker.generation;
  private readonly created: Promise<unknown>;
  private current: Frame;
  private lastReport: AlignReport;
  private closed = false;

  constructor(
    readonly plate: Frame,
    private readonly options: AlignerOptions,
  ) {
    this.current = plate;
    // Until the first frame: the report of an aligner that has seen nothing.
    this.lastReport = new PlateAligner(plate, options).report();
    worker.hold();
    this.created = copied(plate).then(({ frame, transfer }) => worker.call('create', { id: this.id, plate: frame, options }, transfer));
    this.created.catch(() => undefined); // surfaces at the first plateFor
    forget.register(this, { id: this.id, generation: this.generation }, this);
  }

  get mode(): AlignMode {
    return this.options.mode;
  }

  async plateFor(frame: Frame): Promise<Frame> {
    if (this.closed) throw new Error('aligner used after close()');
    await this.created;
    if (this.generation !== worker.generation) throw new Error("this job's plate alignment was lost with the align worker; run the job again");
    const { frame: sent, transfer } = await copied(frame);
    const answer = await worker.call<AlignAnswer>('plateFor', { id: this.id, frame: sent }, transfer);
    this.lastReport = answer.report;
    if (answer.plate === 'given') this.current = this.plate;
    else if (answer.plate === 'new') this.current = answer.frame;
    return this.current;
  }

  report(): AlignReport {
    return this.lastReport;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    forget.unregister(this);
    dispose(this.id, this.generation);
  }
}

/** Local aligner for mode "off" (nothing to compute), the align worker's otherwise. */
class LocalAligner extends PlateAligner implements Aligner {
  close(): void {}
}

/** An aligner for one still, clip job or live session. */
export function createAligner(plate: Frame, options: AlignerOptions): Aligner {
  return options.mode === 'off' ? new LocalAligner(plate, options) : new RemoteAligner(plate, options);
}
