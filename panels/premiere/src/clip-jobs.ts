// From a selected clip to an engine job and back: the job's frame range, the outputs per mode,
// and what the panel remembers between sessions (each media file's plate, recent jobs and
// where their mattes were placed). Pure except for the Storage passed in.
import type { ClipDescription, ClipRef, MatteMode, PlaceMatteResult } from '../../../host/src/api.js';
import type { ClipOutputKind, JobRange, JobRecord } from '../../../src/shared/api.js';

/**
 * The clip's source range for the engine. In frames when Premiere says the rate it plays the
 * media at: exact, and right for footage interpreted at another rate (Premiere's source times
 * are then in the interpreted rate, the engine's in the file's). Seconds otherwise.
 */
export function jobRange(clip: ClipDescription): JobRange {
  if (clip.mediaFps !== null && clip.mediaFps > 0) {
    return { in: Math.round(clip.inSeconds * clip.mediaFps), out: Math.round(clip.outSeconds * clip.mediaFps), unit: 'frames' };
  }
  return { in: clip.inSeconds, out: clip.outSeconds };
}

export const OUTPUT_OF_MODE: Record<MatteMode, ClipOutputKind> = { cutout: 'prores4444', trackMatte: 'matte' };

export function clipRef(c: ClipDescription): ClipRef {
  return { sequenceId: c.sequenceId, nodeId: c.nodeId, trackIndex: c.trackIndex, mediaPath: c.mediaPath, inTicks: c.inTicks, outTicks: c.outTicks };
}

/** The matte file of a finished job for the mode it was started with. */
export function matteOutput(job: JobRecord, mode: MatteMode): string | undefined {
  return job.outputs.find((o) => o.kind === OUTPUT_OF_MODE[mode])?.path;
}

export interface PlateMemo {
  readonly backgroundId: string;
  /** How it was taken, for the panel ("frame 00:00:01:04 of take1.mp4", "plate.png"). */
  readonly label: string;
}

export interface JobMemo {
  readonly id: string;
  readonly clipName: string;
  readonly clip: ClipRef;
  readonly mode: MatteMode;
  readonly placed?: PlaceMatteResult;
  readonly placeError?: string;
}

/** The part of localStorage used (a Map-backed stand-in works in tests). */
export interface KeyValueStore {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

const PLATES_KEY = 'cleanplate.premiere.plates';
const JOBS_KEY = 'cleanplate.premiere.jobs';
const MAX_JOBS = 12;

function read<T>(storage: KeyValueStore, key: string, fallback: T): T {
  try {
    return (JSON.parse(storage.getItem(key) ?? 'null') as T | null) ?? fallback;
  } catch {
    return fallback;
  }
}

export class PanelMemory {
  constructor(private readonly storage: KeyValueStore) {}

  plate(mediaPath: string): PlateMemo | undefined {
    return read<Record<string, PlateMemo>>(this.storage, PLATES_KEY, {})[mediaPath];
  }
  setPlate(mediaPath: string, plate: PlateMemo | undefined): void {
    const all = read<Record<string, PlateMemo>>(this.storage, PLATES_KEY, {});
    if (plate) all[mediaPath] = plate;
    else delete all[mediaPath];
    this.storage.setItem(PLATES_KEY, JSON.stringify(all));
  }

  jobs(): JobMemo[] {
    return read<JobMemo[]>(this.storage, JOBS_KEY, []);
  }
  saveJob(job: JobMemo): void {
    const rest = this.jobs().filter((j) => j.id !== job.id);
    this.storage.setItem(JOBS_KEY, JSON.stringify([job, ...rest].slice(0, MAX_JOBS)));
  }
  updateJob(id: string, change: Partial<JobMemo>): void {
    const job = this.jobs().find((j) => j.id === id);
    if (job) this.saveJob({ ...job, ...change });
  }
}
