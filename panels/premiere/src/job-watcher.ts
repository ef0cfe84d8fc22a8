// Following the panel's clip jobs on the engine, with no React and no host API: each job's
// server-sent events until it ends, and when the stream breaks (the engine stopped), waiting for
// an engine to answer again (engine.json may name a new port and token) and asking it how the job
// ended. What the panel shows and does comes back through the callbacks. Shared by the CEP panel
// and the UXP plugin.
import { isActiveJobState, type JobProgress, type JobRecord } from '../../../src/shared/api.js';
import { EngineError, getJob, jobEvents, type EngineEndpoint } from '../../../src/shared/engine-client.js';
import type { JobMemo } from './clip-jobs.js';
import { messageOf } from '../../../src/shared/error-message.js';

export interface JobView extends JobMemo {
  readonly record?: JobRecord;
  readonly progress?: JobProgress;
  /** The engine stopped answering while the job ran: waiting for it to come back. */
  readonly lostContact?: boolean;
}

export function isActive(record: JobRecord | undefined): boolean {
  return record !== undefined && isActiveJobState(record.state);
}

export type Say = (level: 'error' | 'notice' | 'clear-error', text: string) => void;

export interface JobWatcherDeps {
  /** The engine as last found; undefined when it is not known to run. */
  current(): EngineEndpoint | undefined;
  /** Looks for the engine again (reads engine.json, asks its health). */
  locate(): Promise<EngineEndpoint | undefined>;
  /** A change to what the panel shows of a job. */
  update(id: string, change: Partial<JobView>): void;
  /** A job ended done: import and place its matte. */
  place(job: JobMemo, record: JobRecord): Promise<void>;
  say: Say;
  /** Pause between looks for an engine that went away (ms). */
  retryMs?: number;
}

/** The outcome of a job that ended other than done, for the user. */
export function endedMessage(job: JobMemo, record: JobRecord): { level: 'error' | 'notice'; text: string } | undefined {
  switch (record.state) {
    case 'failed':
      return { level: 'error', text: `The matte for "${job.clipName}" failed: ${record.error?.message ?? 'unknown error'}. Nothing was imported.` };
    case 'cancelled':
      return { level: 'notice', text: `Cancelled "${job.clipName}": nothing was imported.` };
    case 'interrupted':
      return { level: 'error', text: `The engine stopped while rendering "${job.clipName}": nothing was imported. Press Run again to render it again.` };
    default:
      return undefined;
  }
}

export class JobWatcher {
  private readonly watching = new Set<string>();
  private readonly aborts = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly deps: JobWatcherDeps) {}

  isWatching(id: string): boolean {
    return this.watching.has(id);
  }

  /** Ends every watch (the panel closed); nothing is reported after this. */
  stop(): void {
    this.stopped = true;
    for (const a of this.aborts) a.abort();
  }

  /** A job reached its end: the record shown, then placed (done) or the outcome said. */
  async finished(job: JobMemo, record: JobRecord): Promise<void> {
    if (this.stopped) return;
    this.deps.update(job.id, { record, lostContact: false, progress: record.progress });
    if (record.state === 'done') return this.deps.place(job, record);
    const said = endedMessage(job, record);
    if (said) this.deps.say(said.level, said.text);
  }

  /** Follows one job until it ends (or the watcher stops). Watching a watched job again is a no-op. */
  async watch(job: JobMemo): Promise<void> {
    if (this.watching.has(job.id) || this.stopped) return;
    this.watching.add(job.id);
    try {
      while (!this.stopped) {
        const ep = this.deps.current() ?? (await this.deps.locate());
        if (ep && !this.stopped) {
          const ended = await this.follow(job, ep);
          if (ended) return;
        }
        await new Promise((r) => setTimeout(r, this.deps.retryMs ?? 1500));
        if (this.stopped) return;
        const back = await this.deps.locate();
        if (!back) continue;
        try {
          const record = await getJob(back, job.id);
          this.deps.say('clear-error', '');
          if (!isActive(record)) return await this.finished(job, record);
        } catch (err) {
          if (err instanceof EngineError && err.code === 'unknown_job') {
            this.deps.update(job.id, { lostContact: false });
            return this.deps.say('error', `The engine that came back does not know the job for "${job.clipName}" (another data folder?). Nothing was imported.`);
          }
        }
      }
    } finally {
      this.watching.delete(job.id);
    }
  }

  /** The job's event stream; true when the job ended (or failed for good), false when the engine went away. */
  private async follow(job: JobMemo, ep: EngineEndpoint): Promise<boolean> {
    const abort = new AbortController();
    this.aborts.add(abort);
    try {
      for await (const event of jobEvents(ep, job.id, abort.signal)) {
        if (this.stopped) return true;
        if (event.type === 'progress') this.deps.update(job.id, { progress: event.progress, lostContact: false });
        else if (event.type === 'snapshot' || event.type === 'state') this.deps.update(job.id, { record: event.job, progress: event.job.progress, lostContact: false });
        else {
          await this.finished(job, event.job);
          return true;
        }
      }
      if (this.stopped) return true;
    } catch (err) {
      if (this.stopped) return true;
      if (!(err instanceof EngineError) || err.code !== 'engine_unreachable') {
        this.deps.update(job.id, { placeError: messageOf(err) });
        this.deps.say('error', messageOf(err));
        return true;
      }
    } finally {
      this.aborts.delete(abort);
    }
    // The stream broke: the engine stopped. It may come back (new port and token): ask it then.
    this.deps.update(job.id, { lostContact: true });
    this.deps.say('error', `Lost contact with the engine while rendering "${job.clipName}". Waiting for it to come back...`);
    return false;
  }

  /** Jobs remembered from before: their state once the engine answers; the active ones followed. */
  resume(ep: EngineEndpoint, jobs: readonly JobMemo[]): void {
    for (const job of jobs) {
      getJob(ep, job.id).then(
        (record) => {
          if (this.stopped) return;
          this.deps.update(job.id, { record, progress: record.progress });
          if (isActive(record)) void this.watch(job);
        },
        () => undefined,
      );
    }
  }
}
