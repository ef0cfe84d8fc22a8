// Job records on disk: <data>/jobs/<id>.json, written atomically, one job's writes chained so they
// land in call order (a late progress write must never replace the final state). Records that
// name temp files are sealed (cleanup-seal.ts) so only this engine's own records drive cleanup.
import path from 'node:path';
import type { JobRecord } from '../../shared/api.js';
import { writeFileAtomic } from '../fs/atomic.js';
import { cleanupSeal } from './cleanup-seal.js';
import type { StoredJob } from './job-records.js';

/** The record without what only a restart needs (temp paths, encoder, seal). */
export function withoutCleanup(job: StoredJob): StoredJob {
  const { tempPaths: _t, encoder: _e, cleanupSeal: _s, ...rest } = job;
  return rest;
}

/** The wire record. */
export function publicRecord(job: StoredJob): JobRecord {
  return withoutCleanup(job);
}

export class JobStore {
  private readonly writes = new Map<string, Promise<void>>();

  constructor(
    readonly dir: string,
    private readonly key: Buffer,
  ) {}

  /** The record with its cleanup fields sealed (when it has any). */
  sealed(record: StoredJob): StoredJob {
    if (record.tempPaths === undefined && record.encoder === undefined) return withoutCleanup(record);
    return { ...record, cleanupSeal: cleanupSeal(this.key, record) };
  }

  /** Writes a record (sealed); writes of one job land in call order. */
  persist(record: StoredJob): Promise<void> {
    const data = JSON.stringify(this.sealed(record), null, 2) + '\n';
    const previous = this.writes.get(record.id) ?? Promise.resolve();
    const write = previous.catch(() => undefined).then(() => writeFileAtomic(path.join(this.dir, `${record.id}.json`), data));
    this.writes.set(record.id, write);
    void write
      .finally(() => {
        if (this.writes.get(record.id) === write) this.writes.delete(record.id);
      })
      .catch(() => undefined);
    return write;
  }
}
