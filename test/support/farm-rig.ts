// A render farm on this machine, for the farm test and the farm bench: a real redis-server,
// `cleanplate worker` processes, and in this process the media tools, the model registry, one
// MattingService, a local JobService and farm JobServices made on demand (each over its own
// FarmCoordinator). close() stops everything it started (workers by their PIDs) and removes its
// temp folder.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { JobRecord } from '../../src/shared/api.js';
import { FarmCoordinator, type FarmOptions } from '../../src/engine/farm/coordinator.js';
import { locateMediaTools, type MediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { JobService, type JobServiceOptions } from '../../src/engine/services/jobs.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { startWorker, type TestWorker } from './farm-workers.js';
import { startRedis, type TestRedis } from './redis.js';

export interface FarmRig {
  /** A temp folder for clips and outputs, removed by close(). */
  readonly dir: string;
  readonly tools: MediaTools;
  readonly registry: ModelRegistry;
  readonly matting: MattingService;
  readonly redis: TestRedis;
  /** Started, maybe not ready yet: await each one's `ready`. */
  readonly workers: TestWorker[];
  /** Renders here, no farm. */
  readonly local: JobService;
  /** A JobService that renders through a new FarmCoordinator (`registry` defaults to the rig's); closed by close(). */
  farmJobs(label: string, options?: Partial<Omit<FarmOptions, 'redisUrl'>>): Promise<JobService>;
  close(): Promise<void>;
}

export async function startFarmRig(o: { prefix: string; workers: readonly string[]; workerEnv?: NodeJS.ProcessEnv }): Promise<FarmRig> {
  const tools = await locateMediaTools();
  const registry = await ModelRegistry.load();
  const dir = await mkdtemp(path.join(os.tmpdir(), o.prefix));
  const redis = await startRedis();
  const workers = o.workers.map((name) => startWorker(redis.url, name, [], o.workerEnv));
  const matting = new MattingService(registry);
  const services: JobService[] = [];
  const coordinators: FarmCoordinator[] = [];
  const close = async (): Promise<void> => {
    for (const s of services) await s.close();
    for (const c of coordinators) await c.close();
    await matting.dispose();
    await Promise.all(workers.map((w) => w.kill('SIGTERM')));
    await redis.stop();
    await rm(dir, { recursive: true, force: true });
  };
  const jobService = async (label: string, extra: Partial<JobServiceOptions> = {}): Promise<JobService> => {
    const jobs = new JobService({ dataDir: path.join(dir, `data-${label}`), tools: async () => tools, registry, matting, ...extra });
    services.push(jobs);
    await jobs.init();
    return jobs;
  };
  let local: JobService;
  try {
    local = await jobService('local');
  } catch (err) {
    await close();
    throw err;
  }
  return {
    dir,
    tools,
    registry,
    matting,
    redis,
    workers,
    local,
    farmJobs: async (label, options = {}) => {
      const farm = new FarmCoordinator({ registry, ...options, redisUrl: redis.url });
      coordinators.push(farm);
      return jobService(label, { registry: options.registry ?? registry, runClip: farm.runClip });
    },
    close,
  };
}

/** The job once it has left queued and running (done, failed or cancelled). */
export function settle(jobs: JobService, id: string): Promise<JobRecord> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const r = jobs.get(id);
      if (['queued', 'running'].includes(r.state)) return false;
      resolve(r);
      return true;
    };
    if (check()) return;
    const off = jobs.subscribe(id, () => {
      if (check()) off();
    });
  });
}
