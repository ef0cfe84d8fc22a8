// Clip jobs: a queue per execution device (one job at a time each by default), the job's life
// from queued to done/failed/cancelled, and progress and state events for SSE. Records are kept
// by job-store.ts; after a crash or kill -9, job-recovery.ts turns jobs that were queued or
// running into `interrupted` ones (their own leftovers removed) that can be re-run as new jobs.
import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { isActiveJobState, type JobEvent, type JobList, type JobProgress, type JobRecord, type JobRequest, type JobState } from '../../shared/api.js';
import type { ModelRegistry } from '../matting/registry.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import type { BackgroundStore } from './backgrounds.js';
import { loadCleanupKey } from './cleanup-seal.js';
import { clipSideWork, jobMedia, planClipJob, runClipJob, type ClipPlan, type ClipRunner } from './clip-job.js';
import { progressReporter } from './job-progress.js';
import { JOB_ID_PATTERN, jobErrorCode, type StoredJob } from './job-records.js';
import { recoverJobs } from './job-recovery.js';
import { JobStore, publicRecord, withoutCleanup } from './job-store.js';
import type { MattingService } from './matting-service.js';
import { BusyError } from './pixel-budget.js';
import { ShuttingDownError } from './shutting-down.js';
import { messageOf } from '../../shared/error-message.js';

const ID_PATTERN = JOB_ID_PATTERN;
/** Jobs waiting at once; more are refused with 503 busy rather than held without bound. */
export const MAX_QUEUED_JOBS = 64;

export class UnknownJobError extends Error {
  constructor(readonly id: string) {
    super(`no job with id "${id}"`);
    this.name = 'UnknownJobError';
  }
}

/** Cancel of a finished job, or rerun of an active one (409). */
export class JobStateError extends Error {
  constructor(
    readonly code: 'job_not_active' | 'job_still_active',
    message: string,
  ) {
    super(message);
    this.name = 'JobStateError';
  }
}

interface Live {
  record: StoredJob;
  plan?: ClipPlan;
  abort?: AbortController;
}

export interface JobServiceOptions {
  readonly dataDir: string;
  readonly tools: () => Promise<MediaTools>;
  readonly registry: ModelRegistry;
  readonly matting: Pick<MattingService, 'run' | 'deviceFor'>;
  readonly backgrounds?: BackgroundStore;
  /** Jobs running at once per device (default CLEANPLATE_JOBS_PER_DEVICE or 1). */
  readonly jobsPerDevice?: number;
  /** Jobs waiting at once (default MAX_QUEUED_JOBS); past it, create() throws BusyError. */
  readonly maxQueued?: number;
  readonly log?: (line: string) => void;
  /** Renders planned jobs (default: here, runClipJob); the render farm passes its own. */
  readonly runClip?: ClipRunner;
  /**
   * The device a planned job runs on, resolved before it is queued (jobs queue per device):
   * default, the provider its model's session runs this frame size on. The farm passes "farm".
   */
  readonly deviceOf?: (plan: ClipPlan) => Promise<string>;
}

function jobsPerDeviceFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env.CLEANPLATE_JOBS_PER_DEVICE);
  return Number.isInteger(n) && n > 0 ? n : 1;
}

const noProgress = (total: number): JobProgress => ({ framesDone: 0, framesTotal: total, fps: 0, etaSeconds: null });

export class JobService {
  readonly dir: string;
  private readonly jobs = new Map<string, Live>();
  private readonly running = new Map<string, number>();
  private readonly events = new EventEmitter();
  private store: JobStore | undefined;
  private readonly jobsPerDevice: number;
  private readonly log: (line: string) => void;
  private closed = false;

  constructor(private readonly options: JobServiceOptions) {
    this.dir = path.join(options.dataDir, 'jobs');
    this.jobsPerDevice = options.jobsPerDevice ?? jobsPerDeviceFromEnv();
    this.log = options.log ?? (() => undefined);
    this.events.setMaxListeners(0);
  }

  /** Loads stored records; jobs a previous engine left queued or running become interrupted. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const key = await loadCleanupKey(this.dir);
    this.store = new JobStore(this.dir, key);
    for (const record of await recoverJobs({ store: this.store, key, tools: this.options.tools, log: this.log })) this.jobs.set(record.id, { record });
  }

  list(): JobList {
    const jobs = [...this.jobs.values()].map((j) => publicRecord(j.record)).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
    return { jobs };
  }

  get(id: string): JobRecord {
    return publicRecord(this.live(id).record);
  }

  private live(id: string): Live {
    const job = ID_PATTERN.test(id) ? this.jobs.get(id) : undefined;
    if (!job) throw new UnknownJobError(id);
    return job;
  }

  /** Never a guess: a job labelled with a device it does not run on would run beside another. */
  private deviceOf(plan: ClipPlan): Promise<string> {
    if (this.options.deviceOf) return this.options.deviceOf(plan);
    return this.options.matting.deviceFor(plan.modelId, plan.info.width, plan.info.height, clipSideWork(plan));
  }

  /** Validates and queues a job; bad input throws (the route answers 4xx) and nothing is stored. */
  async create(request: JobRequest, rerunOf?: string): Promise<JobRecord> {
    if (this.closed) throw new ShuttingDownError('this job');
    this.admit();
    const tools = await this.options.tools();
    const plan = await planClipJob({ tools, registry: this.options.registry, ...(this.options.backgrounds ? { backgrounds: this.options.backgrounds } : {}) }, request);
    const device = await this.deviceOf(plan);
    if (this.closed) throw new ShuttingDownError('this job');
    this.admit(); // again: others may have been queued while this one was planned
    const record: StoredJob = {
      id: randomBytes(8).toString('hex'),
      state: 'queued',
      request,
      model: plan.modelId,
      device,
      createdAt: new Date().toISOString(),
      media: jobMedia(plan),
      progress: noProgress(plan.span.count),
      outputs: [],
      ...(rerunOf ? { rerunOf } : {}),
    };
    await this.persist(record);
    this.jobs.set(record.id, { record, plan });
    this.emit(record.id, { type: 'state', job: publicRecord(record) });
    this.schedule();
    return publicRecord(record);
  }

  /** Refuses a new job while the queue is full (each queued job holds its plan, plate included). */
  private admit(): void {
    const max = this.options.maxQueued ?? MAX_QUEUED_JOBS;
    const queued = [...this.jobs.values()].filter((j) => j.record.state === 'queued').length;
    if (queued >= max) throw new BusyError(`${queued} jobs are already waiting (at most ${max}): try again once some have run`, 30);
  }

  /** Queues a new job with the request of a finished one (an interrupted one, typically). */
  async rerun(id: string): Promise<JobRecord> {
    const { record } = this.live(id);
    if (isActiveJobState(record.state)) throw new JobStateError('job_still_active', `job ${id} is ${record.state}; cancel it first`);
    return this.create(record.request, id);
  }

  /** Cancels a queued or running job: ffmpeg is killed and temp files removed before this resolves. */
  async cancel(id: string): Promise<JobRecord> {
    const job = this.live(id);
    const state = job.record.state;
    if (!isActiveJobState(state)) throw new JobStateError('job_not_active', `job ${id} is already ${state}`);
    if (!job.abort) {
      // Still waiting in the queue: nothing to stop.
      await this.finish(job, { state: 'cancelled' });
      return publicRecord(job.record);
    }
    const settled = new Promise<void>((resolve) => this.events.once(`settled:${id}`, resolve));
    job.abort?.abort(new Error('cancelled'));
    await settled;
    return publicRecord(job.record);
  }

  /** Subscribes to one job's events; returns the unsubscribe function. */
  subscribe(id: string, listener: (event: JobEvent) => void): () => void {
    this.live(id);
    this.events.on(`job:${id}`, listener);
    return () => this.events.off(`job:${id}`, listener);
  }

  private emit(id: string, event: JobEvent): void {
    this.events.emit(`job:${id}`, event);
  }

  private persist(record: StoredJob): Promise<void> {
    if (!this.store) throw new Error('JobService.init() was not called');
    return this.store.persist(record);
  }

  private async update(job: Live, patch: Partial<StoredJob>): Promise<void> {
    job.record = { ...job.record, ...patch };
    await this.persist(job.record);
  }

  private async finish(job: Live, patch: Partial<StoredJob> & { state: JobState }): Promise<void> {
    job.record = withoutCleanup({ ...job.record, ...patch, finishedAt: new Date().toISOString() });
    job.plan = undefined; // the plate frame can be large: drop it with the plan
    await this.persist(job.record).catch((err: unknown) => this.log(`error: could not save job ${job.record.id}: ${String(err)}`));
    const pub = publicRecord(job.record);
    if (patch.state === 'done') this.emit(pub.id, { type: 'done', job: pub });
    else if (patch.state === 'failed') this.emit(pub.id, { type: 'failed', job: pub, error: pub.error ?? { code: 'internal', message: 'failed' } });
    else if (patch.state === 'cancelled') this.emit(pub.id, { type: 'cancelled', job: pub });
    this.events.emit(`settled:${pub.id}`);
  }

  /** Starts queued jobs, oldest first, while their device has a free slot. */
  private schedule(): void {
    if (this.closed) return;
    const queued = [...this.jobs.values()].filter((j) => j.record.state === 'queued').sort((a, b) => a.record.createdAt.localeCompare(b.record.createdAt));
    for (const job of queued) {
      const device = job.record.device;
      if ((this.running.get(device) ?? 0) >= this.jobsPerDevice) continue;
      this.running.set(device, (this.running.get(device) ?? 0) + 1);
      void this.execute(job).finally(() => {
        this.running.set(device, (this.running.get(device) ?? 1) - 1);
        this.schedule();
      });
    }
  }

  private async execute(job: Live): Promise<void> {
    const id = job.record.id;
    const abort = new AbortController();
    job.abort = abort;
    try {
      const tools = await this.options.tools();
      // A re-run after restart has no plan in memory: resolve the request again.
      const plan = job.plan ?? (await planClipJob({ tools, registry: this.options.registry, ...(this.options.backgrounds ? { backgrounds: this.options.backgrounds } : {}) }, job.record.request));
      abort.signal.throwIfAborted();
      await this.update(job, { state: 'running', startedAt: new Date().toISOString() });
      this.emit(id, { type: 'state', job: publicRecord(job.record) });
      const onFrame = progressReporter(plan.span.count, {
        update: (progress) => (job.record = { ...job.record, progress }),
        emit: (progress) => this.emit(id, { type: 'progress', progress }),
        persist: () => void this.persist(job.record).catch(() => undefined),
      });
      const result = await (this.options.runClip ?? runClipJob)(tools, this.options.matting, plan, {
        signal: abort.signal,
        onTempFiles: (paths, encoder) => {
          job.record = { ...job.record, tempPaths: [...paths], ...(encoder ? { encoder } : {}) };
          void this.persist(job.record).catch(() => undefined);
        },
        onFrame,
      });
      await this.finish(job, {
        state: 'done',
        outputs: result.outputs.map((o) => ({ kind: o.kind, path: o.path })),
        ...(result.align ? { align: result.align } : {}),
        ...(result.farm ? { farm: result.farm } : {}),
      });
      this.log(`job ${id} done: ${result.outputs.map((o) => o.path).join(', ')}`);
    } catch (err) {
      if (abort.signal.aborted) {
        // At shutdown close() records the job as interrupted; otherwise the user cancelled it.
        if (this.closed) this.events.emit(`settled:${id}`);
        else await this.finish(job, { state: 'cancelled' });
        return;
      }
      const code = jobErrorCode(err);
      const message = messageOf(err);
      this.log(`job ${id} failed: ${message}`);
      await this.finish(job, { state: 'failed', error: { code, message } });
    } finally {
      job.abort = undefined;
    }
  }

  /**
   * Shuts down: running jobs are stopped and marked interrupted (temp files removed), queued
   * ones too, so a restarted engine shows them as re-runnable rather than lost.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const active = [...this.jobs.values()].filter((j) => isActiveJobState(j.record.state));
    await Promise.all(
      active.map(async (job) => {
        if (job.abort) {
          const settled = new Promise<void>((resolve) => this.events.once(`settled:${job.record.id}`, resolve));
          job.abort.abort(new Error('engine shutting down'));
          await settled;
          if (!isActiveJobState(job.record.state)) return; // it finished meanwhile
        }
        const rest = withoutCleanup(job.record);
        job.record = {
          ...rest,
          state: 'interrupted',
          finishedAt: new Date().toISOString(),
          error: { code: 'interrupted', message: `the engine shut down while this job was ${rest.state}; partial outputs were removed. Re-run it with POST /v1/jobs/${rest.id}/rerun` },
        };
        await this.persist(job.record);
        this.emit(job.record.id, { type: 'interrupted', job: publicRecord(job.record) });
      }),
    );
  }
}
