// The engine's side of the farm: a planned clip job becomes segments on the queue of its model
// version, any worker renders them, and the engine joins the results into the requested
// outputs. Progress comes from polling the segments (robust to lost events and Redis restarts:
// a segment Redis lost is queued again); cancel tells every worker to stop, waits until none is
// still rendering, then removes the farm folder, so no partial output is left.
import { Job, Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ClipOutputKind, FarmProgress, FarmWorkerProgress } from '../../shared/api.js';
import { ENGINE_VERSION } from '../config.js';
import type { PublishedOutput } from '../media/encode.js';
import { tempNameFor } from '../media/output-files.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import { formatRational } from '../media/frame-range.js';
import type { ModelRegistry } from '../matting/registry.js';
import type { ClipPlan, ClipResult, ClipRunner, RunHooks } from '../services/clip-job.js';
import { CANCEL_CHANNEL, cancelledKey, FARM_PREFIX, queueName, redactRedisUrl, redisOptions, WORKERS_KEY } from './connection.js';
import { removeFarmFolder, removePublished } from './cleanup.js';
import { joinSegments } from './join.js';
import { isRecurrent, modelIdentity, type ModelIdentity } from './model-identity.js';
import { planSegments, type Segment } from './segments.js';
import { decodeFailure, FarmError, type SegmentKind, type SegmentProgress, type SegmentResult, type SegmentTask } from './task.js';
import { messageOf } from '../../shared/error-message.js';

export interface FarmOptions {
  readonly redisUrl: string;
  readonly registry: ModelRegistry;
  /** Frames per segment (default 120). */
  readonly segmentFrames?: number;
  /** Warm-up frames before each segment of a recurrent model (default 12). */
  readonly warmUpFrames?: number;
  /** Fail a job when no worker serves its model version for this long (default 120 s). */
  readonly noWorkerMs?: number;
  /** Fail a job when Redis stays unreachable for this long (default 120 s). */
  readonly unreachableMs?: number;
  readonly pollMs?: number;
  readonly log?: (line: string) => void;
}

const FOLDER_NAME = 'cleanplate-farm';

interface SegmentState {
  readonly segment: Segment;
  readonly jobId: string;
  result?: SegmentResult;
  progress?: SegmentProgress;
}

export class FarmCoordinator {
  private readonly queues = new Map<string, Queue<SegmentTask, SegmentResult>>();
  private readonly connection;
  /** For the farm's own keys and cancel messages. */
  private readonly client: Redis;

  constructor(private readonly options: FarmOptions) {
    this.connection = redisOptions(options.redisUrl);
    this.client = new Redis(this.connection);
    this.client.on('error', () => undefined);
  }

  get description(): string {
    return redactRedisUrl(this.options.redisUrl);
  }

  private queue(name: string): Queue<SegmentTask, SegmentResult> {
    let q = this.queues.get(name);
    if (!q) {
      q = new Queue<SegmentTask, SegmentResult>(name, { connection: this.connection, prefix: FARM_PREFIX });
      q.on('error', () => undefined); // ioredis reconnects; polls report a lasting outage
      this.queues.set(name, q);
    }
    return q;
  }

  readonly runClip: ClipRunner = (tools, _matting, plan, hooks = {}) => this.run(tools, plan, hooks);

  private async run(tools: MediaTools, plan: ClipPlan, hooks: RunHooks): Promise<ClipResult> {
    const o = this.options;
    const log = o.log ?? (() => undefined);
    const identity = await modelIdentity(o.registry, plan.modelId);
    const sha = identity.sha256;
    const warmUp = isRecurrent(o.registry, plan.modelId) ? (o.warmUpFrames ?? 12) : 0;
    const segments = planSegments(plan.span, o.segmentFrames ?? 120, warmUp);
    const farmId = randomBytes(8).toString('hex');
    // A temp name the engine makes (".cleanplate-farm.partial-<hex>"), created fresh: ours to remove.
    const dir = tempNameFor(path.join(plan.outputDir, FOLDER_NAME));
    await mkdir(dir);
    hooks.onTempFiles?.([dir], undefined);
    const queue = this.queue(queueName(plan.modelId, identity.key));
    const states: SegmentState[] = segments.map((segment) => ({ segment, jobId: `${farmId}-${segment.index}` }));
    const published: PublishedOutput[] = [];
    try {
      let platePath: string | undefined;
      if (plan.plate) {
        platePath = path.join(dir, 'plate.png');
        const p = plan.plate;
        await sharp(p.data, { raw: { width: p.width, height: p.height, channels: p.channels } })
          .png({ compressionLevel: 1 })
          .toFile(platePath);
      }
      const kinds = new Set<SegmentKind>();
      for (const k of plan.outputs) kinds.add(k === 'composite' ? 'png' : k);
      const taskFor = (s: Segment): SegmentTask => ({
        farmId,
        index: s.index,
        mediaPath: plan.info.path,
        ...(platePath ? { platePath } : {}),
        first: s.first,
        count: s.count,
        warmUp: s.warmUp,
        modelId: plan.modelId,
        modelSha256: sha,
        modelKey: identity.key,
        engineVersion: ENGINE_VERSION,
        outputs: [...kinds],
        align: plan.align,
        dir,
        expect: { width: plan.info.width, height: plan.info.height, frameRate: formatRational(plan.info.frameRate) },
      });
      const add = (list: SegmentState[]): Promise<unknown> =>
        queue.addBulk(list.map((s) => ({ name: 'segment', data: taskFor(s.segment), opts: { jobId: s.jobId, attempts: 1, removeOnComplete: false, removeOnFail: false } })));
      await add(states);
      log(`farm job ${farmId}: ${segments.length} segments of ${plan.modelId} (sha256 ${sha.slice(0, 12)}) on ${queue.name}`);
      await this.watch(queue, states, identity, plan, hooks, add);
      hooks.signal?.throwIfAborted();
      await joinSegments(
        tools,
        {
          segments: states.map((s) => Object.fromEntries(s.result!.outputs.map((x) => [x.kind, path.join(dir, x.name)]))),
          frameCount: plan.span.count,
          width: plan.info.width,
          height: plan.info.height,
          frameRate: plan.info.frameRate,
          firstFrame: plan.span.first,
          dir,
          ...(hooks.signal ? { signal: hooks.signal } : {}),
        },
        { kinds: plan.outputs, stem: plan.stem, ...(plan.composite ? { composite: plan.composite } : {}) },
        published,
      );
      const encodedAfterJoin: ClipOutputKind[] = plan.outputs.filter((k) => k === 'composite');
      return {
        outputs: published,
        times: { source: 0, transform: 0, sink: 0, prepare: 0, prepareStarved: 0, prepareBlocked: 0, transformStarved: 0, transformBlocked: 0, sinkStarved: 0 },
        farm: {
          modelId: plan.modelId,
          modelSha256: sha,
          engineVersion: ENGINE_VERSION,
          segments: segments.length,
          warmUpFrames: warmUp,
          workers: states.map((s) => s.result!.worker),
          encodedAfterJoin,
        },
      };
    } catch (err) {
      await this.stopSegments(queue, farmId, states).catch((e: unknown) => log(`warning: farm job ${farmId}: stopping segments: ${String(e)}`));
      // Outputs this job published before a later one failed are ours: never leave half a job.
      await removePublished(published.map((p) => p.path));
      throw err;
    } finally {
      for (const why of await removeFarmFolder(dir)) log(`warning: farm job ${farmId}: left ${why}`);
      await Promise.all(states.map((s) => queue.remove(s.jobId).catch(() => 0)));
    }
  }

  /** Polls until every segment is done; throws on a failed segment, abort, or a farm that cannot serve the job. */
  private async watch(
    queue: Queue<SegmentTask, SegmentResult>,
    states: SegmentState[],
    identity: ModelIdentity,
    plan: ClipPlan,
    hooks: RunHooks,
    add: (s: SegmentState[]) => Promise<unknown>,
  ): Promise<void> {
    const o = this.options;
    const pollMs = o.pollMs ?? 250;
    let noWorkerSince: number | undefined;
    let unreachableSince: number | undefined;
    let lastDone = -1;
    for (;;) {
      hooks.signal?.throwIfAborted();
      try {
        const lost: SegmentState[] = [];
        for (const s of states) {
          if (s.result) continue;
          const job = await Job.fromId<SegmentTask, SegmentResult>(queue, s.jobId);
          if (!job) {
            lost.push(s);
            continue;
          }
          if (job.finishedOn && job.failedReason) throw decodeFailure(job.failedReason, s.segment.index);
          if (job.finishedOn && job.returnvalue) s.result = job.returnvalue;
          else s.progress = typeof job.progress === 'object' && job.progress !== null && 'worker' in job.progress ? (job.progress as unknown as SegmentProgress) : undefined;
        }
        if (lost.length) {
          (o.log ?? (() => undefined))(`farm: ${lost.length} segment(s) missing from Redis (restarted without persistence?): queued again`);
          await add(lost);
        }
        if (states.every((s) => s.result)) {
          hooks.onFrame?.(plan.span.count, this.progress(states));
          return;
        }
        const waiting = states.some((s) => !s.result && !s.progress);
        if (waiting && (await queue.getWorkersCount()) === 0) {
          noWorkerSince ??= Date.now();
          if (Date.now() - noWorkerSince > (o.noWorkerMs ?? 120_000)) throw await this.noWorkerError(identity);
        } else noWorkerSince = undefined;
        unreachableSince = undefined;
      } catch (err) {
        if (err instanceof FarmError) throw err;
        unreachableSince ??= Date.now();
        if (Date.now() - unreachableSince > (o.unreachableMs ?? 120_000)) {
          throw new FarmError('farm_unreachable', `Redis at ${this.description} has not answered for ${Math.round((Date.now() - unreachableSince) / 1000)} s: ${messageOf(err)}`);
        }
      }
      const detail = this.progress(states);
      const done = states.reduce((n, s) => n + (s.result ? s.segment.count : (s.progress?.framesDone ?? 0)), 0);
      if (done !== lastDone || detail.workers.length > 0) {
        lastDone = done;
        hooks.onFrame?.(done, detail);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  private progress(states: readonly SegmentState[]): FarmProgress {
    const workers: FarmWorkerProgress[] = states
      .filter((s) => !s.result && s.progress)
      .map((s) => ({ worker: s.progress!.worker, segment: s.segment.index, framesDone: s.progress!.framesDone, framesTotal: s.segment.count, fps: s.progress!.fps }));
    return { segmentsDone: states.filter((s) => s.result).length, segmentsTotal: states.length, workers };
  }

  private async noWorkerError(identity: ModelIdentity): Promise<FarmError> {
    let known = '';
    try {
      const entries = Object.entries(await this.client.hgetall(WORKERS_KEY));
      known = entries
        .map(([name, json]) => {
          const w = JSON.parse(json) as { models: ModelIdentity[]; engineVersion: string };
          return `"${name}" (engine ${w.engineVersion}: ${w.models.map((m) => `${m.id} sha256 ${m.sha256.slice(0, 12)} key ${m.key}`).join(', ')})`;
        })
        .join('; ');
    } catch {
      // The message below is still true without the list.
    }
    return new FarmError(
      'no_farm_worker',
      `no farm worker serves model ${identity.id} sha256 ${identity.sha256.slice(0, 12)} key ${identity.key} (engine ${ENGINE_VERSION}); ${known ? `workers seen: ${known}. A worker with another model file or engine version is not given this job's segments` : 'no worker has registered'}: start "cleanplate worker --redis ..." with the same models`,
    );
  }

  /** Tells workers to stop this job's segments, drops queued ones, waits until none is rendering. */
  private async stopSegments(queue: Queue<SegmentTask, SegmentResult>, farmId: string, states: readonly SegmentState[]): Promise<void> {
    await this.client.set(cancelledKey(farmId), '1', 'EX', 24 * 3600);
    await this.client.publish(CANCEL_CHANNEL, farmId);
    const deadline = Date.now() + 60_000;
    for (;;) {
      let active = 0;
      for (const s of states) {
        const state = await queue.getJobState(s.jobId);
        if (state === 'active') active++;
        else if (state !== 'completed' && state !== 'failed' && state !== 'unknown') await queue.remove(s.jobId).catch(() => 0);
      }
      if (active === 0 || Date.now() > deadline) return;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  async close(): Promise<void> {
    await Promise.all([...this.queues.values()].map((q) => q.close().catch(() => undefined)));
    this.queues.clear();
    this.client.disconnect();
  }
}
