// Start-up after a crash or kill -9: every stored record is loaded and checked; an invalid one is
// set aside (job-records.ts), a job left queued or running becomes `interrupted` after its
// leftovers are cleaned up, and only when the record's cleanup fields carry this engine's seal:
// its encoder is stopped if /proc proves it is still that ffmpeg, its temp outputs are removed
// (files, PNG frame folders, and the farm's `.cleanplate-farm.partial-*` folder with only the names
// the farm writes). Nothing a record names is touched otherwise (docs/security.md, "Restart").
import { lstat, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isActiveJobState } from '../../shared/api.js';
import { removeFarmFolder } from '../farm/cleanup.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import { removeEngineTemp, stopRecordedEncoder } from '../media/leftovers.js';
import { sealHolds } from './cleanup-seal.js';
import { JOB_ID_PATTERN, recordProblem, setAside, type StoredJob } from './job-records.js';
import { withoutCleanup, type JobStore } from './job-store.js';
import { messageOf } from '../../shared/error-message.js';

/** The temp folder a farm job works in (coordinator.ts: tempNameFor(<outputDir>/cleanplate-farm)). */
const FARM_FOLDER = /^\.cleanplate-farm\.partial-[0-9a-f]{8}$/;

export interface RecoveryDeps {
  readonly store: JobStore;
  readonly key: Buffer;
  readonly tools: () => Promise<MediaTools>;
  readonly log: (line: string) => void;
}

/** A stored record, or why it cannot be used. */
async function load(dir: string, name: string, id: string): Promise<StoredJob | string> {
  try {
    const raw: unknown = JSON.parse(await readFile(path.join(dir, name), 'utf8'));
    return recordProblem(raw, id) ?? (raw as StoredJob);
  } catch (err) {
    return `unreadable (${messageOf(err)})`;
  }
}

/** One temp output: the farm's folder (only its own names inside), or a file / PNG frame folder. */
async function removeTemp(p: string): Promise<string[]> {
  if (FARM_FOLDER.test(path.basename(p))) {
    const info = await lstat(p).catch(() => undefined);
    if (!info) return [];
    if (!info.isDirectory()) return [`${p}: not a folder`];
    if (typeof process.getuid === 'function' && info.uid !== process.getuid()) return [`${p}: owned by another user`];
    return removeFarmFolder(p);
  }
  const why = await removeEngineTemp(p);
  return why ? [why] : [];
}

/** Stops the job's own encoder (if /proc proves it is), then removes the temp names it made. */
async function cleanUpAfterCrash(deps: RecoveryDeps, record: StoredJob): Promise<void> {
  const temps = record.tempPaths ?? [];
  if (temps.length === 0 && !record.encoder) return;
  if (!sealHolds(deps.key, record)) {
    // Named in full so the user can check and remove them by hand (docs/security.md says how).
    const left = temps.length > 0 ? `; left in place: ${temps.join(', ')}` : '';
    const encoder = record.encoder ? `; encoder pid ${record.encoder.pid} not stopped` : '';
    deps.log(
      `warning: interrupted job ${record.id} (record jobs/${record.id}.json): its cleanup fields are not sealed by this engine: no process stopped, no file removed${left}${encoder} (written before seals existed, or edited; see docs/security.md to remove them)`,
    );
    return;
  }
  const ffmpeg = await deps.tools().then(
    (t) => t.ffmpeg.path,
    () => undefined,
  );
  if (record.encoder && ffmpeg) {
    const outcome = await stopRecordedEncoder(record.encoder, temps, ffmpeg);
    if (outcome === 'stopped') deps.log(`stopped the encoder (pid ${record.encoder.pid}) left running by the interrupted job ${record.id}`);
    if (outcome === 'not_ours') deps.log(`job ${record.id}: pid ${record.encoder.pid} is no longer its encoder: left alone`);
  }
  for (const p of temps) {
    const left = await removeTemp(p).catch((err: unknown) => [messageOf(err)]);
    for (const why of left) deps.log(`warning: interrupted job ${record.id}: left ${why}`);
  }
}

/** Loads every stored record; jobs a previous engine left queued or running come back interrupted. */
export async function recoverJobs(deps: RecoveryDeps): Promise<StoredJob[]> {
  const dir = deps.store.dir;
  const records: StoredJob[] = [];
  for (const name of await readdir(dir)) {
    const id = name.endsWith('.json') ? name.slice(0, -5) : '';
    if (!JOB_ID_PATTERN.test(id)) continue;
    const loaded = await load(dir, name, id);
    if (typeof loaded === 'string') {
      const moved = await setAside(dir, name).catch(() => undefined);
      deps.log(`warning: job record ${name} set aside${moved ? ` as ${moved}` : ''}: ${loaded}; nothing it names was touched`);
      continue;
    }
    let record = loaded;
    if (isActiveJobState(record.state)) {
      await cleanUpAfterCrash(deps, record);
      record = {
        ...withoutCleanup(record),
        state: 'interrupted',
        finishedAt: new Date().toISOString(),
        error: {
          code: 'interrupted',
          message: `the engine stopped while this job was ${record.state}; partial outputs were removed. Re-run it with POST /v1/jobs/${record.id}/rerun`,
        },
      };
      await deps.store.persist(record);
    }
    records.push(record);
  }
  return records;
}
