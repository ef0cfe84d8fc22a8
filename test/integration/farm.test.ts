// The render farm for real: a redis-server on a free loopback port, 3 `cleanplate worker`
// processes, an engine in farm mode. A job split over the workers gives outputs whose decoded
// frames are identical (per-frame checksums) to the same job rendered locally; a worker killed
// with SIGKILL mid-segment does not change that; cancel stops every worker's segment and leaves
// no output, partial or not. 640x360 by default, to stay inside CI's budget: at 1080p
// (CLEANPLATE_FARM_TEST_WIDTH=1920) the identity test alone took 104 s with its local reference
// at load average 21 on the shared 2-core machine, and it passed there too.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, JobRecord, JobRequest } from '../../src/shared/api.js';
import { parsePathMap } from '../../src/engine/farm/path-map.js';
import { renderSegment } from '../../src/engine/farm/segment-render.js';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { JobService } from '../../src/engine/services/jobs.js';
import { makeClip, runCapture, type GeneratedClip } from '../support/clips.js';
import { startTestEngine } from '../support/engine.js';
import { settle, startFarmRig, type FarmRig } from '../support/farm-rig.js';

const WIDTH = Number(process.env.CLEANPLATE_FARM_TEST_WIDTH ?? 640);
const HEIGHT = Math.round((WIDTH * 9) / 16 / 2) * 2;
const FRAMES = 36;
/** Per-test time limit, scaled with the pixel count when a bigger size is asked for. */
const SCALE = Math.max(1, (WIDTH * HEIGHT) / (640 * 360));
const TIMEOUT = 60_000 * SCALE;
/** Segment lock: short, so a killed worker's segment returns quickly; longer for big frames (slower event loops). */
const LOCK_ENV = { CLEANPLATE_FARM_LOCK_MS: String(Math.round(3000 * SCALE)) };
const SEGMENT_FRAMES = 9;

let rig: FarmRig;
let dir: string;
let farmJobs: JobService;
let clip: GeneratedClip;
let reference: Record<string, string[]>;

/** Per-frame checksums of each output's decoded frames (ffmpeg framemd5; PNGs decoded by sharp). */
async function checksums(job: JobRecord): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const o of job.outputs) {
    if (o.kind === 'png') {
      const names = (await readdir(o.path)).sort();
      out.png = await Promise.all(
        names.map(
          async (n) =>
            `${n} ${createHash('sha256')
              .update(await sharp(path.join(o.path, n)).raw().toBuffer())
              .digest('hex')}`,
        ),
      );
    } else {
      const text = (await runCapture('ffmpeg', ['-v', 'error', '-i', o.path, '-map', '0:v', '-f', 'framemd5', '-'])).toString();
      out[o.kind] = text.split('\n').filter((l) => l && !l.startsWith('#'));
    }
  }
  return out;
}

/** Reads a job's SSE stream to its end, handing each event to `onEvent` as it arrives. */
async function readJobEvents(res: Response, onEvent: (e: JobEvent) => void): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    for (let end = buf.indexOf('\n\n'); end >= 0; end = buf.indexOf('\n\n')) {
      const data = /^data: (.*)$/m.exec(buf.slice(0, end))?.[1];
      buf = buf.slice(end + 2);
      if (!data) continue;
      const event = JSON.parse(data) as JobEvent;
      events.push(event);
      onEvent(event);
    }
  }
  return events;
}

function request(outputDir: string): JobRequest {
  return {
    mediaPath: clip.path,
    range: { in: 4, out: 4 + FRAMES, unit: 'frames' },
    background: { imagePath: clip.platePath },
    model: 'plate',
    outputs: ['prores4444', 'matte', 'png', 'composite'],
    outputDir,
  };
}

beforeAll(async () => {
  rig = await startFarmRig({ prefix: 'cp-farm-', workers: ['w1', 'w2', 'w3'], workerEnv: LOCK_ENV });
  dir = rig.dir;
  clip = await makeClip(dir, 'clip', { width: WIDTH, height: HEIGHT, rate: '24', frames: FRAMES + 8 });
  farmJobs = await rig.farmJobs('farm', { segmentFrames: SEGMENT_FRAMES, pollMs: 100 });
  const done = await settle(rig.local, (await rig.local.create(request(path.join(dir, 'local')))).id);
  expect(done.state).toBe('done');
  reference = await checksums(done);
  await Promise.all(rig.workers.map((w) => w.ready));
}, 2 * TIMEOUT);

afterAll(async () => {
  await rig?.close();
});

describe('render farm (real redis-server, 3 worker processes)', () => {
  it('a job split over the workers gives frames identical to the local render, with per-worker progress', { timeout: TIMEOUT }, async () => {
    const outputDir = path.join(dir, 'farm1');
    const events: JobEvent[] = [];
    const job = await farmJobs.create(request(outputDir));
    farmJobs.subscribe(job.id, (e) => events.push(e));
    const done = await settle(farmJobs, job.id);
    expect(done.error?.message).toBeUndefined();
    expect(done.state).toBe('done');
    expect(done.farm?.segments).toBe(FRAMES / SEGMENT_FRAMES);
    expect(done.farm?.modelSha256).toMatch(/^[0-9a-f]{64}$/);
    expect(done.farm?.encodedAfterJoin).toEqual(['composite']);
    const got = await checksums(done);
    for (const kind of ['prores4444', 'matte', 'png', 'composite']) {
      expect(got[kind]?.length, kind).toBe(FRAMES);
      expect(got[kind], kind).toEqual(reference[kind]);
    }
    // Only the published outputs remain: no farm folder, no segment.
    expect((await readdir(outputDir)).sort()).toEqual(done.outputs.map((o) => path.basename(o.path)).sort());
    const progress = events.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress');
    const seen = new Set(progress.flatMap((e) => e.progress.farm?.workers.map((w) => w.worker) ?? []));
    expect(seen.size).toBeGreaterThan(0);
    expect(new Set(done.farm!.workers).size).toBeGreaterThan(1);
    expect(progress.at(-1)?.progress.framesDone).toBe(FRAMES);
  });

  it('cancel stops every segment in flight and leaves no partial outputs', { timeout: TIMEOUT }, async () => {
    const outputDir = path.join(dir, 'farm3');
    // Two long segments, so both are still rendering when the cancel lands.
    const jobs = await rig.farmJobs('cancel', { segmentFrames: FRAMES / 2, pollMs: 100 });
    const { workers } = rig;
    const before = new Map(workers.map((w) => [w.name, w.log().length]));
    try {
      const job = await jobs.create(request(outputDir));
      await new Promise<void>((resolve, reject) => {
        const off = jobs.subscribe(job.id, (e) => {
          if (e.type !== 'progress') return void (e.type !== 'state' && reject(new Error(`the job ended (${e.type}) before two segments were in flight`)));
          if ((e.progress.farm?.workers ?? []).filter((w) => w.framesDone > 0).length >= 2) {
            off();
            resolve();
          }
        });
      });
      const cancelled = await jobs.cancel(job.id);
      expect(cancelled.state).toBe('cancelled');
      expect(await readdir(outputDir)).toEqual([]);
      // Every segment a worker started on this job ended, and those in flight were stopped.
      await new Promise((r) => setTimeout(r, 500)); // stderr pipes deliver the last lines
      const logs = workers.map((w) => w.log().slice(before.get(w.name) ?? 0)).join('\n');
      const farmId = /segment \d+ of ([0-9a-f]+): frames/.exec(logs)![1]!;
      const started = [...logs.matchAll(new RegExp(`segment (\\d+) of ${farmId}: frames`, 'g'))].map((m) => m[1]);
      const stopped = [...logs.matchAll(new RegExp(`stopped segment (\\d+) of ${farmId}: cancelled`, 'g'))].map((m) => m[1]);
      const finished = [...logs.matchAll(new RegExp(`done segment (\\d+) of ${farmId}`, 'g'))].map((m) => m[1]);
      expect(started.length).toBe(2);
      expect(stopped.length).toBeGreaterThan(0);
      expect([...stopped, ...finished].sort()).toEqual([...started].sort());
      for (const w of workers) expect(w.alive(), w.name).toBe(true);
    } catch (err) {
      console.log(workers.map((w) => `--- ${w.name}\n${w.log().slice(before.get(w.name) ?? 0)}`).join('\n'));
      throw err;
    }
  });

  it('over the HTTP API: SSE progress with per-worker detail and an ETA; Redis restarted mid-job, the job still finishes identical', { timeout: TIMEOUT }, async () => {
    const { redis, workers } = rig;
    const t = await startTestEngine({ farm: { redisUrl: redis.url, segmentFrames: SEGMENT_FRAMES }, warmUp: false });
    try {
      const outputDir = path.join(dir, 'farm-http');
      const res = await t.api('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(request(outputDir)) });
      expect(res.status).toBe(201);
      const job = (await res.json()) as JobRecord;
      let restart: Promise<void> | undefined;
      const events = await readJobEvents(await t.api(`/v1/jobs/${job.id}/events`), (e) => {
        if (!restart && e.type === 'progress' && e.progress.farm?.workers.some((w) => w.framesDone > 0)) restart = redis.restart();
      });
      expect(restart).toBeDefined();
      await restart;
      const last = events.at(-1)!;
      expect(last.type, JSON.stringify(last)).toBe('done');
      const done = (last as Extract<JobEvent, { type: 'done' }>).job;
      const got = await checksums(done);
      for (const kind of ['prores4444', 'matte', 'png', 'composite']) expect(got[kind], kind).toEqual(reference[kind]);
      const progress = events.flatMap((e) => (e.type === 'progress' ? [e.progress] : []));
      expect(progress.some((p) => typeof p.etaSeconds === 'number' && p.etaSeconds > 0)).toBe(true);
      expect(progress.some((p) => (p.farm?.workers ?? []).some((w) => workers.some((x) => x.name === w.worker)))).toBe(true);
      expect(progress.at(-1)?.farm).toMatchObject({ segmentsDone: FRAMES / SEGMENT_FRAMES, segmentsTotal: FRAMES / SEGMENT_FRAMES });
    } finally {
      await t.stop();
    }
  });

  it('a job whose model version no worker has is refused, naming the versions the workers have', async () => {
    // The same manifest with the plate model's settings changed: another model version.
    const models = path.join(dir, 'models-other');
    await mkdir(models);
    const manifest = JSON.parse(await readFile(path.join(defaultModelsDir, 'manifest.json'), 'utf8')) as { models: { id: string; settings: object }[] };
    manifest.models.find((m) => m.id === 'plate')!.settings = { revision: 'other' };
    await writeFile(path.join(models, 'manifest.json'), JSON.stringify(manifest));
    const other = await ModelRegistry.load(models);
    const jobs = await rig.farmJobs('other', { registry: other, segmentFrames: SEGMENT_FRAMES, noWorkerMs: 1500, pollMs: 100 });
    const outputDir = path.join(dir, 'farm-other');
    const failed = await settle(jobs, (await jobs.create(request(outputDir))).id);
    expect(failed.state).toBe('failed');
    expect(failed.error?.code).toBe('no_farm_worker');
    expect(failed.error?.message).toMatch(/no farm worker serves model plate sha256 [0-9a-f]{12} key [0-9a-f]{16}/);
    expect(failed.error?.message).toContain('"w1"');
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('a worker that cannot see the media fails its segment clearly, naming both paths', async () => {
    const task = {
      farmId: '0123456789abcdef',
      index: 0,
      mediaPath: clip.path,
      first: 0,
      count: 2,
      warmUp: 0,
      modelId: 'plate',
      modelSha256: 'x',
      modelKey: 'y',
      engineVersion: '0',
      outputs: ['png' as const],
      align: 'off' as const,
      dir,
      expect: { width: WIDTH, height: HEIGHT, frameRate: '24/1' },
    };
    const ctx = { worker: 'render-07', tools: rig.tools, matting: rig.matting, pathMap: parsePathMap(`${dir}=/mnt/not-mounted`) };
    const err = await renderSegment(ctx, task, new AbortController().signal, () => undefined).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'path_not_visible' });
    expect((err as Error).message).toContain(`worker "render-07" cannot read the media /mnt/not-mounted/${path.basename(clip.path)} (mapped from ${clip.path}; ENOENT)`);
  });

  it('a worker killed with SIGKILL mid-segment: its segment is rendered again elsewhere, output still identical', { timeout: TIMEOUT }, async () => {
    const outputDir = path.join(dir, 'farm2');
    const job = await farmJobs.create(request(outputDir));
    let victim: { worker: string; segment: number } | undefined;
    await new Promise<void>((resolve) => {
      const off = farmJobs.subscribe(job.id, (e) => {
        if (e.type !== 'progress' || victim) return;
        const w = e.progress.farm?.workers.find((x) => x.framesDone > 0 && x.framesDone < x.framesTotal - 1);
        if (!w) return;
        victim = { worker: w.worker, segment: w.segment };
        off();
        resolve();
      });
    });
    const killed = rig.workers.find((w) => w.name === victim!.worker)!;
    await killed.kill('SIGKILL');
    expect(killed.alive()).toBe(false);
    const done = await settle(farmJobs, job.id);
    expect(done.error?.message).toBeUndefined();
    expect(done.state).toBe('done');
    expect(done.farm!.workers[victim!.segment]).not.toBe(victim!.worker);
    const got = await checksums(done);
    for (const kind of ['prores4444', 'matte', 'png', 'composite']) expect(got[kind], kind).toEqual(reference[kind]);
    expect((await readdir(outputDir)).sort()).toEqual(done.outputs.map((o) => path.basename(o.path)).sort());
  });
});
