// Job records on disk (<data>/jobs/<id>.json) are input like any other: a crash, a full disk, a
// hand edit or a forged file can leave anything there. At load each record is checked; one that
// does not hold up is moved to <data>/jobs/invalid/ with a warning and never acted on (no kill, no
// delete), so one bad file can neither break GET /v1/jobs nor make the engine touch foreign things.
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { JOB_STATES, type JobRecord } from '../../shared/api.js';
import { isEngineTempPath, type EncoderRecord } from '../media/leftovers.js';
import { defaultOutputDir } from '../media/output-files.js';

/** The stored record: the wire record plus what a restart needs to clean up after a crash. */
export type StoredJob = JobRecord & {
  /** Temp outputs being written (removed after a crash). */
  readonly tempPaths?: readonly string[];
  /** The encoder writing them (stopped after a crash if it is provably still that process). */
  readonly encoder?: EncoderRecord;
  /** HMAC of the two fields above under the engine's cleanup key (cleanup-seal.ts). */
  readonly cleanupSeal?: string;
};

export const JOB_ID_PATTERN = /^[0-9a-f]{16}$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isDate = (v: unknown): boolean => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const isCount = (v: unknown): boolean => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** The folder the job's outputs (and so its temp files) go to. */
export function jobOutputDir(request: { mediaPath: string; outputDir?: string }): string {
  return request.outputDir ?? defaultOutputDir(request.mediaPath);
}

/** Why `raw` is not a usable record of job `id`, or undefined when it is. */
export function recordProblem(raw: unknown, id: string): string | undefined {
  if (!isObject(raw)) return 'not a JSON object';
  if (raw.id !== id) return `"id" is ${JSON.stringify(raw.id)}, not the file's ${id}`;
  if (!(JOB_STATES as readonly unknown[]).includes(raw.state)) return `unknown "state" ${JSON.stringify(raw.state)}`;
  if (!isDate(raw.createdAt)) return '"createdAt" is missing or not a date';
  for (const field of ['startedAt', 'finishedAt'] as const) if (raw[field] !== undefined && !isDate(raw[field])) return `"${field}" is not a date`;
  if (typeof raw.model !== 'string' || typeof raw.device !== 'string') return '"model" and "device" must be strings';
  const req = raw.request;
  if (!isObject(req) || typeof req.mediaPath !== 'string' || !path.isAbsolute(req.mediaPath)) return '"request.mediaPath" must be an absolute path';
  if (req.outputDir !== undefined && (typeof req.outputDir !== 'string' || !path.isAbsolute(req.outputDir))) return '"request.outputDir" must be an absolute path';
  const p = raw.progress;
  if (!isObject(p) || !isCount(p.framesDone) || !isCount(p.framesTotal)) return '"progress" must hold frame counts';
  if (!Array.isArray(raw.outputs) || !raw.outputs.every((o) => isObject(o) && typeof o.kind === 'string' && typeof o.path === 'string')) return '"outputs" must be a list of {kind, path}';
  if (raw.error !== undefined && !(isObject(raw.error) && typeof raw.error.code === 'string' && typeof raw.error.message === 'string')) return '"error" must be {code, message}';
  if (raw.tempPaths !== undefined) {
    const dir = jobOutputDir(req as { mediaPath: string; outputDir?: string });
    if (!Array.isArray(raw.tempPaths) || !raw.tempPaths.every((t) => typeof t === 'string' && isEngineTempPath(t, dir))) {
      return `"tempPaths" must be temp names the engine makes inside the job's output folder ${dir}`;
    }
  }
  if (raw.encoder !== undefined) {
    const e = raw.encoder;
    if (!isObject(e) || !Number.isInteger(e.pid) || (e.pid as number) <= 1 || typeof e.executable !== 'string' || !path.isAbsolute(e.executable)) {
      return '"encoder" must be {pid, executable}';
    }
  }
  if (raw.cleanupSeal !== undefined && typeof raw.cleanupSeal !== 'string') return '"cleanupSeal" must be a string';
  return undefined;
}

/** Moves an unusable record out of the way (kept for a human to look at, never loaded again). */
export async function setAside(jobsDir: string, name: string): Promise<string> {
  const dir = path.join(jobsDir, 'invalid');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const target = path.join(dir, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}`);
  await rename(path.join(jobsDir, name), target);
  return target;
}

const NO_SPACE = new Set(['ENOSPC', 'EDQUOT']);

/** True for an error that says the disk (or quota) is full, from Node or from ffmpeg's stderr. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return (typeof code === 'string' && NO_SPACE.has(code)) || (err instanceof Error && /No space left on device|Disk quota exceeded/i.test(err.message));
}

/**
 * The code a failed job records: the API's own codes (lower snake case) as thrown, `disk_full`
 * for a full disk, `internal` for anything else; OS codes (ENOENT, EPERM...) never leak out.
 */
export function jobErrorCode(err: unknown): string {
  if (isDiskFull(err)) return 'disk_full';
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[a-z][a-z_]*$/.test(code) ? code : 'internal';
}
