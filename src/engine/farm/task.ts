// What travels through the queue: one segment to render (paths as the engine sees them) and
// what the worker sends back. Errors cross as "[code] message" so the job's error keeps a code.
import type { AlignMode, ClipOutputKind } from '../../shared/api.js';

/** Segment outputs are intra-only, so they join without re-encoding. */
export type SegmentKind = Exclude<ClipOutputKind, 'composite'>;

export interface SegmentTask {
  readonly farmId: string;
  readonly index: number;
  readonly mediaPath: string;
  /** Lossless PNG of the job's plate, in the farm folder. */
  readonly platePath?: string;
  readonly first: number;
  readonly count: number;
  readonly warmUp: number;
  readonly modelId: string;
  readonly modelSha256: string;
  /** modelIdentity().key: model file, settings and engine version. */
  readonly modelKey: string;
  readonly engineVersion: string;
  readonly outputs: readonly SegmentKind[];
  readonly align: AlignMode;
  /** The farm folder segments are written to (beside the job's outputs, on the share). */
  readonly dir: string;
  /** What the engine probed, so a worker that maps a path to another file notices. */
  readonly expect: { readonly width: number; readonly height: number; readonly frameRate: string };
}

export interface SegmentResult {
  readonly worker: string;
  /** Published segment files/folders: names inside the farm folder. */
  readonly outputs: readonly { readonly kind: SegmentKind; readonly name: string }[];
  readonly frames: number;
  readonly ms: number;
}

/** Progress a worker reports while rendering a segment (BullMQ job progress). */
export interface SegmentProgress {
  readonly worker: string;
  readonly framesDone: number;
  readonly framesTotal: number;
  readonly fps: number;
}

export class FarmError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'FarmError';
  }
}

export function encodeFailure(code: string, message: string): string {
  return `[${code}] ${message}`;
}

export function decodeFailure(reason: string | undefined, segment?: number): FarmError {
  // BullMQ's own words when a segment's lock expired too often (workers killed, or too busy to renew it).
  if (/stalled more than allowable limit/.test(reason ?? '')) {
    return new FarmError(
      'farm_worker_lost',
      `segment ${segment ?? '?'} was abandoned by its workers too often (killed, or too busy to renew the segment lock within CLEANPLATE_FARM_LOCK_MS): ${reason}`,
    );
  }
  const m = /^\[([a-z_]+)\] ([\s\S]*)$/.exec(reason ?? '');
  return m ? new FarmError(m[1]!, m[2]!) : new FarmError('farm_segment_failed', reason || 'a farm segment failed');
}
