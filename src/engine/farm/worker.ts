// `cleanplate worker`: takes segments from the farm's queues and renders them. One BullMQ worker
// per model version this machine has (so it never sees segments of a model it would render
// differently), one segment at a time each. A killed worker's segment is re-queued by BullMQ's
// stalled-job check once its lock expires; cancel messages abort the segment in flight.
import { UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import os from 'node:os';
import { ENGINE_VERSION } from '../config.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import type { ModelRegistry } from '../matting/registry.js';
import type { MattingService } from '../services/matting-service.js';
import { CANCEL_CHANNEL, cancelledKey, FARM_PREFIX, FarmConfigError, queueName, redactRedisUrl, redisOptions, WORKERS_KEY } from './connection.js';
import { modelIdentity, type ModelIdentity } from './model-identity.js';
import type { PathRule } from './path-map.js';
import { renderSegment } from './segment-render.js';
import { encodeFailure, type SegmentProgress, type SegmentResult, type SegmentTask } from './task.js';
import { messageOf } from '../../shared/error-message.js';

export interface FarmWorkerOptions {
  readonly redisUrl: string;
  readonly name?: string;
  readonly registry: ModelRegistry;
  readonly matting: Pick<MattingService, 'run'>;
  readonly tools: MediaTools;
  readonly pathMap?: readonly PathRule[];
  /** How long a segment's lock lives without renewal; a killed worker's segment is re-queued after it. */
  readonly lockMs?: number;
  readonly log?: (line: string) => void;
}

const PROGRESS_MS = 250;
const HEARTBEAT_MS = 5_000;
const CONNECT_TIMEOUT_MS = 10_000;

export class FarmWorker {
  private readonly workers: Worker[] = [];
  private readonly inFlight = new Map<string, AbortController>();
  private subscriber: Redis | undefined;
  private admin: Redis | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  private closing = false;
  readonly name: string;
  served: ModelIdentity[] = [];

  constructor(private readonly options: FarmWorkerOptions) {
    this.name = options.name ?? `${os.hostname()}-${process.pid}`;
  }

  private get log(): (line: string) => void {
    return this.options.log ?? (() => undefined);
  }

  async start(): Promise<void> {
    const connection = redisOptions(this.options.redisUrl);
    const models = this.options.registry.list().filter((m) => m.available);
    this.served = await Promise.all(models.map((m) => modelIdentity(this.options.registry, m.id)));
    this.admin = new Redis(connection);
    this.subscriber = new Redis(connection);
    this.subscriber.on('message', (_channel: string, farmId: string) => this.abortFarm(farmId));
    this.subscriber.on('error', () => undefined); // reconnects on its own
    this.admin.on('error', () => undefined);
    await this.reachRedis();
    await this.subscriber.subscribe(CANCEL_CHANNEL);
    const lockDuration = this.options.lockMs ?? 30_000;
    for (const model of this.served) {
      const worker = new Worker<SegmentTask, SegmentResult>(queueName(model.id, model.key), (job, token, signal) => this.process(model, job, token, signal), {
        connection,
        prefix: FARM_PREFIX,
        concurrency: 1,
        name: this.name,
        lockDuration,
        stalledInterval: Math.max(500, Math.round(lockDuration / 2)),
        maxStalledCount: 3,
      });
      worker.on('error', (err) => this.log(`warning: ${err.message}`));
      this.workers.push(worker);
    }
    await Promise.all(this.workers.map((w) => w.waitUntilReady()));
    await this.register();
    this.heartbeat = setInterval(() => void this.register().catch(() => undefined), HEARTBEAT_MS);
    this.log(`worker "${this.name}" serving ${this.served.map((m) => `${m.id} (sha256 ${m.sha256.slice(0, 12)})`).join(', ')} on ${FARM_PREFIX}`);
  }

  /** A worker that cannot reach Redis at start says so instead of waiting forever. */
  private async reachRedis(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(new FarmConfigError(`cannot reach Redis at ${redactRedisUrl(this.options.redisUrl)} within ${CONNECT_TIMEOUT_MS / 1000} s (is it running, and is this machine allowed to connect?)`)),
        CONNECT_TIMEOUT_MS,
      );
    });
    try {
      await Promise.race([this.admin!.ping(), timeout]);
    } catch (err) {
      this.subscriber?.disconnect();
      this.admin?.disconnect();
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  /** So an engine can say which model versions the farm's workers have when none matches a job. */
  private async register(): Promise<void> {
    await this.admin?.hset(WORKERS_KEY, this.name, JSON.stringify({ models: this.served, engineVersion: ENGINE_VERSION, seen: Date.now() }));
  }

  private abortFarm(farmId: string): void {
    for (const [key, abort] of this.inFlight) if (key.startsWith(`${farmId}/`)) abort.abort(new Error('cancelled'));
  }

  private async process(model: ModelIdentity, job: Job<SegmentTask, SegmentResult>, token: string | undefined, lockSignal?: AbortSignal): Promise<SegmentResult> {
    const task = job.data;
    if (task.modelKey !== model.key || task.modelId !== model.id || task.engineVersion !== ENGINE_VERSION) {
      throw new UnrecoverableError(
        encodeFailure(
          'model_mismatch',
          `worker "${this.name}" has ${model.id} sha256 ${model.sha256} (engine ${ENGINE_VERSION}); the job needs ${task.modelId} sha256 ${task.modelSha256} (engine ${task.engineVersion})`,
        ),
      );
    }
    if (await this.admin?.exists(cancelledKey(task.farmId))) throw new UnrecoverableError(encodeFailure('cancelled', 'the job was cancelled'));
    const abort = new AbortController();
    const key = `${task.farmId}/${task.index}`;
    this.inFlight.set(key, abort);
    lockSignal?.addEventListener('abort', () => abort.abort(new Error('lost the segment lock')), { once: true });
    let started = 0;
    let last = 0;
    const report = (done: number): void => {
      const now = performance.now();
      if (started === 0) started = now;
      if (done !== task.count && now - last < PROGRESS_MS) return;
      last = now;
      const fps = done > 1 ? (done - 1) / ((now - started) / 1000) : 0;
      const progress: SegmentProgress = { worker: this.name, framesDone: done, framesTotal: task.count, fps };
      void job.updateProgress(progress as unknown as object).catch(() => undefined);
    };
    try {
      this.log(`segment ${task.index} of ${task.farmId}: frames ${task.first}-${task.first + task.count - 1} (+${task.warmUp} warm-up)`);
      const result = await renderSegment({ worker: this.name, tools: this.options.tools, matting: this.options.matting, pathMap: this.options.pathMap ?? [] }, task, abort.signal, report);
      this.log(`done segment ${task.index} of ${task.farmId} in ${Math.round(result.ms)} ms`);
      return result;
    } catch (err) {
      if (this.closing) {
        // Shutting down: hand the segment back for another worker rather than failing the job.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (abort.signal.aborted) {
        this.log(`stopped segment ${task.index} of ${task.farmId}: ${(abort.signal.reason as Error)?.message ?? 'aborted'}`);
      }
      if (abort.signal.aborted)
        throw new UnrecoverableError(encodeFailure('cancelled', `segment ${task.index} stopped on worker "${this.name}": ${(abort.signal.reason as Error)?.message ?? 'aborted'}`));
      const code = typeof (err as { code?: unknown }).code === 'string' ? (err as { code: string }).code : 'farm_segment_failed';
      // Bad input fails the same way everywhere: no retry on another worker.
      throw new UnrecoverableError(encodeFailure(code, `worker "${this.name}", segment ${task.index}: ${messageOf(err)}`));
    } finally {
      this.inFlight.delete(key);
    }
  }

  /** Stops taking segments; a segment in flight is aborted (BullMQ re-queues it for another worker). */
  async close(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.closing = true;
    for (const abort of this.inFlight.values()) abort.abort(new Error('worker shutting down'));
    await Promise.all(this.workers.map((w) => w.close().catch(() => undefined)));
    await this.admin?.hdel(WORKERS_KEY, this.name).catch(() => undefined);
    this.subscriber?.disconnect();
    this.admin?.disconnect();
  }
}
