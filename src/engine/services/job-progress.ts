// A running job's progress from its frame callbacks: frames done, fps over the frames after the
// first (the first includes start-up), ETA; events at most every 200 ms (and at the last frame),
// disk writes at most every 2 s.
import type { FarmProgress, JobProgress } from '../../shared/api.js';

const EMIT_PROGRESS_MS = 200;
const PERSIST_PROGRESS_MS = 2000;

export interface ProgressSinks {
  /** Every frame: the record's progress. */
  update(progress: JobProgress): void;
  emit(progress: JobProgress): void;
  persist(): void;
}

/** The onFrame hook of a job of `total` frames. */
export function progressReporter(total: number, sinks: ProgressSinks): (done: number, farm?: FarmProgress) => void {
  let started = 0;
  let lastEmit = 0;
  let lastPersist = Date.now();
  return (done, farm) => {
    const now = performance.now();
    if (started === 0) started = now;
    const elapsed = (now - started) / 1000;
    const fps = done > 1 && elapsed > 0 ? (done - 1) / elapsed : 0;
    const progress: JobProgress = { framesDone: done, framesTotal: total, fps, etaSeconds: fps > 0 ? (total - done) / fps : null, ...(farm ? { farm } : {}) };
    sinks.update(progress);
    if (done === total || now - lastEmit >= EMIT_PROGRESS_MS) {
      lastEmit = now;
      sinks.emit(progress);
    }
    if (Date.now() - lastPersist >= PERSIST_PROGRESS_MS) {
      lastPersist = Date.now();
      sinks.persist();
    }
  };
}
