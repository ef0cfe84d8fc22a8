// Admission for clip jobs: the queue is bounded; past it a new job (or a re-run) is refused with
// BusyError, which HTTP answers as 503 busy with Retry-After, instead of queueing without bound.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/engine/http/errors.js';
import { locateMediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { ClipRunner } from '../../src/engine/services/clip-job.js';
import { JobService } from '../../src/engine/services/jobs.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { BusyError } from '../../src/engine/services/pixel-budget.js';
import { makeClip, type GeneratedClip } from '../support/clips.js';

let dir: string;
let clip: GeneratedClip;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-admit-'));
  clip = await makeClip(dir, 'clip', { rate: '25', frames: 6 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('job admission', () => {
  it('refuses a job past the queue limit with 503 busy and Retry-After, and takes one again once there is room', async () => {
    const tools = await locateMediaTools();
    const registry = await ModelRegistry.load();
    const matting = new MattingService(registry);
    // A renderer that holds the first job until the test lets it go: one running, one queued.
    let finish!: () => void;
    const held = new Promise<void>((r) => (finish = r));
    const runClip: ClipRunner = async () => {
      await held;
      return { outputs: [], times: {} as never };
    };
    const svc = new JobService({ dataDir: path.join(dir, 'data'), tools: async () => tools, registry, matting, runClip, maxQueued: 1, jobsPerDevice: 1 });
    await svc.init();
    try {
      const request = { mediaPath: clip.path, background: { imagePath: clip.platePath }, outputs: ['matte' as const], outputDir: path.join(dir, 'out') };
      const running = await svc.create(request);
      await expect.poll(() => svc.get(running.id).state).toBe('running');
      const queued = await svc.create(request);
      expect(svc.get(queued.id).state).toBe('queued');
      const refused = await svc.create(request).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(refused).toBeInstanceOf(BusyError);
      const [status, code] = describeError(refused, 1);
      expect([status, code]).toEqual([503, 'busy']);
      expect((refused as BusyError).retryAfterSeconds).toBeGreaterThan(0);
      expect(svc.list().jobs.length).toBe(2);
      finish();
      await expect.poll(() => svc.get(queued.id).state, { timeout: 30_000 }).not.toBe('queued');
      expect((await svc.create(request)).state).toBe('queued');
    } finally {
      finish();
      await svc.close();
      await matting.dispose();
    }
  }, 60_000);
});
