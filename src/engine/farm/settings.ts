// Farm mode from the environment: CLEANPLATE_REDIS turns it on for the engine (and is the
// worker's default --redis); the rest tune it. Unset CLEANPLATE_REDIS: no farm, jobs run here.
import { FarmConfigError } from './connection.js';
import { parsePathMap, type PathRule } from './path-map.js';

export interface FarmSettings {
  readonly redisUrl: string;
  readonly segmentFrames?: number;
  readonly warmUpFrames?: number;
  readonly noWorkerMs?: number;
}

function whole(env: NodeJS.ProcessEnv, name: string, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new FarmConfigError(`${name} must be a whole number >= ${min}, got "${raw}"`);
  return n;
}

export function farmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): FarmSettings | undefined {
  const redisUrl = env.CLEANPLATE_REDIS;
  if (!redisUrl) return undefined;
  const segmentFrames = whole(env, 'CLEANPLATE_FARM_SEGMENT_FRAMES', 1);
  const warmUpFrames = whole(env, 'CLEANPLATE_FARM_WARMUP_FRAMES', 0);
  const noWorkerMs = whole(env, 'CLEANPLATE_FARM_NO_WORKER_MS', 0);
  return { redisUrl, ...(segmentFrames ? { segmentFrames } : {}), ...(warmUpFrames !== undefined ? { warmUpFrames } : {}), ...(noWorkerMs !== undefined ? { noWorkerMs } : {}) };
}

/** The worker's path rules (CLEANPLATE_PATH_MAP). */
export function pathMapFromEnv(env: NodeJS.ProcessEnv = process.env): PathRule[] {
  return parsePathMap(env.CLEANPLATE_PATH_MAP);
}

/** Segment lock lifetime (CLEANPLATE_FARM_LOCK_MS, default 30 s): a killed worker's segment is re-queued after it. */
export function lockMsFromEnv(env: NodeJS.ProcessEnv = process.env): number | undefined {
  return whole(env, 'CLEANPLATE_FARM_LOCK_MS', 1000);
}
