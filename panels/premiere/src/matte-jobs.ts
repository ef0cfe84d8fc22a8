// The panel's matte jobs with no React: one engine job per selected clip (placement planned
// first, so a matte that could not be placed is never rendered), cancel, run again, and the
// finished matte imported and placed through the host; the job list shown and remembered
// (PanelMemory). Jobs are followed by job-watcher.ts. Shared by the CEP panel and the UXP plugin
// through panel.tsx.
import type { ClipDescription, MatteMode } from '../../../host/src/api.js';
import type { JobRecord } from '../../../src/shared/api.js';
import { cancelJob, createJob, EngineError, rerunJob, type EngineEndpoint } from '../../../src/shared/engine-client.js';
import { clipRef, jobRange, matteOutput, OUTPUT_OF_MODE, type JobMemo, type PanelMemory } from './clip-jobs.js';
import { timecode } from './format.js';
import { messageOf } from '../../../src/shared/error-message.js';
import { JobWatcher, type JobView, type Say } from './job-watcher.js';
import type { PanelHost } from './panel-host.js';

export interface MatteJobsDeps {
  readonly host: Pick<PanelHost, 'call'>;
  readonly memory: PanelMemory;
  /** Where the engine is (EngineConnection). */
  readonly engine: {
    current(): EngineEndpoint | undefined;
    locate(): Promise<EngineEndpoint | undefined>;
    need(): EngineEndpoint;
  };
  /** The job list shown changed (a new array each time, newest first). */
  changed(jobs: readonly JobView[]): void;
  say: Say;
  /** The engine no longer has the clip's stored plate (it was forgotten from memory). */
  plateForgotten(mediaPath: string): void;
  /** The sequence's frame rate, for the timecodes in messages. */
  fps(): number;
  /** Pause between looks for an engine that went away (ms). */
  retryMs?: number;
}

export interface ApplyRequest {
  /** The selected clips; the refused ones are skipped (all refused: the first refusal is the error). */
  readonly clips: readonly ClipDescription[];
  /** The model id; '' for the engine's default. */
  readonly model: string;
  readonly needsPlate: boolean;
  readonly mode: MatteMode;
}

export class MatteJobs {
  private list: JobView[];
  private readonly watcher: JobWatcher;
  private resumed = false;

  constructor(private readonly deps: MatteJobsDeps) {
    this.list = deps.memory.jobs();
    this.watcher = new JobWatcher({
      current: () => deps.engine.current(),
      locate: () => deps.engine.locate(),
      update: (id, change) => this.update(id, change),
      place: (job, record) => this.place(job, record),
      say: deps.say,
      ...(deps.retryMs !== undefined ? { retryMs: deps.retryMs } : {}),
    });
  }

  get jobs(): readonly JobView[] {
    return this.list;
  }

  /** Ends every watch (the panel closed). */
  stop(): void {
    this.watcher.stop();
  }

  /** Once per panel, when the engine first answers: the remembered jobs' state; the active ones followed. */
  resume(ep: EngineEndpoint): void {
    if (this.resumed) return;
    this.resumed = true;
    this.watcher.resume(ep, this.deps.memory.jobs());
  }

  /** Starts a job for each usable clip and follows it; throws the first refusal, for the user. */
  async apply({ clips, model, needsPlate, mode }: ApplyRequest): Promise<void> {
    const ep = this.deps.engine.need();
    const usable = clips.filter((c) => !c.refusal);
    if (usable.length === 0) throw new Error(clips[0]?.refusal?.message ?? 'Select a clip on the timeline first.');
    const { memory, host } = this.deps;
    for (const clip of usable) {
      const stored = memory.plate(clip.mediaPath);
      if (needsPlate && !stored) {
        throw new Error(`No background for "${clip.name}" yet: park the playhead on a frame without the subject and press Recapture background, or choose a clean-plate file.`);
      }
      // Refuse early (no free track above) rather than render a matte that cannot be placed.
      await host.call('planPlacement', clipRef(clip));
      let record: JobRecord;
      try {
        record = await createJob(ep, {
          mediaPath: clip.mediaPath,
          range: jobRange(clip),
          ...(needsPlate && stored ? { background: { id: stored.backgroundId } } : {}),
          ...(model ? { model } : {}),
          outputs: [OUTPUT_OF_MODE[mode]],
        });
      } catch (err) {
        if (err instanceof EngineError && err.code === 'unknown_background') {
          memory.setPlate(clip.mediaPath, undefined);
          this.deps.plateForgotten(clip.mediaPath);
        }
        throw new Error(`The engine refused the matte for "${clip.name}": ${messageOf(err)}`, { cause: err });
      }
      this.started({ id: record.id, clipName: clip.name, clip: clipRef(clip), mode }, record);
    }
  }

  /** Asks the engine to stop the job; one that already ended is no error. */
  async cancel(job: JobView): Promise<void> {
    try {
      await cancelJob(this.deps.engine.need(), job.id);
    } catch (err) {
      if (!(err instanceof EngineError && err.code === 'job_not_active')) throw err;
    }
  }

  /** The same clip and settings as a new job, followed. */
  async runAgain(job: JobView): Promise<void> {
    const record = await rerunJob(this.deps.engine.need(), job.id);
    this.started({ id: record.id, clipName: job.clipName, clip: job.clip, mode: job.mode }, record);
  }

  /** Imports the finished job's matte and places it above its clip; the outcome is said, not thrown. */
  async place(job: JobMemo, record: JobRecord): Promise<void> {
    const mattePath = matteOutput(record, job.mode);
    if (!mattePath) return this.update(job.id, { placeError: 'The job finished without the matte file.' });
    try {
      const placed = await this.deps.host.call('placeMatte', { clip: job.clip, mattePath, mode: job.mode });
      this.update(job.id, { placed, placeError: undefined });
      const fps = this.deps.fps();
      this.deps.say(
        'notice',
        `Matte for "${job.clipName}" placed on ${placed.trackName} (${timecode(placed.startTicks, fps)}-${timecode(placed.endTicks, fps)}), in the bin "${placed.binName}".${job.mode === 'trackMatte' ? ` Apply Track Matte Key (Luma, Matte: ${placed.trackName}) to the clip and hide ${placed.trackName}.` : ''}`,
      );
    } catch (err) {
      this.update(job.id, { placeError: messageOf(err) });
      this.deps.say('error', `The matte for "${job.clipName}" was rendered (${mattePath}) but not placed: ${messageOf(err)}`);
    }
  }

  private started(memo: JobMemo, record: JobRecord): void {
    this.deps.memory.saveJob(memo);
    this.list = [{ ...memo, record, progress: record.progress }, ...this.list.filter((j) => j.id !== memo.id)];
    this.deps.changed(this.list);
    void this.watcher.watch(memo);
  }

  /** A change to a job shown; what belongs to its memo is remembered too. */
  private update(id: string, change: Partial<JobView>): void {
    this.list = this.list.map((j) => (j.id === id ? { ...j, ...change } : j));
    this.deps.changed(this.list);
    const { record: _r, progress: _p, lostContact: _l, ...memo } = change;
    if (Object.keys(memo).length > 0) this.deps.memory.updateJob(id, memo);
  }
}
