// Faults around clip jobs and stills, with the real plate model (onnxruntime) and the real
// ffmpeg: a job is queued under the device it really runs on (never a guess, which once let two
// jobs share a device), a still waiting for a model at shutdown is refused with 503
// shutting_down, a job whose second output fails to publish publishes none (the user's file
// with the same name is untouched), and a stuck ffmpeg (decoder or encoder) is stopped at its
// stall deadline with tool_timeout.
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdir, mkdtemp, open, readdir, readFile, rm, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { promisify } from 'node:util';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/engine/http/errors.js';
import { decodeFrames } from '../../src/engine/media/decode.js';
import { ClipEncoder } from '../../src/engine/media/encode.js';
import { locateMediaTools, type MediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ToolTimeoutError } from '../../src/engine/media/process.js';
import { probeMedia } from '../../src/engine/media/probe.js';
import { jobErrorCode } from '../../src/engine/services/job-records.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { planClipJob, runClipJob, type ClipRunner } from '../../src/engine/services/clip-job.js';
import { JobService } from '../../src/engine/services/jobs.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { ShuttingDownError } from '../../src/engine/services/shutting-down.js';
import { matteStill } from '../../src/engine/services/stills.js';
import { makeModelsDir, removeTempDirs } from '../support/bgmv2-models.js';
import { makeClip, makeFrame, type GeneratedClip } from '../support/clips.js';

let dir: string;
let tools: MediaTools;
let registry: ModelRegistry;
let clip: GeneratedClip;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-job-faults-'));
  tools = await locateMediaTools();
  // The manifest without model files: the default is the plate model whatever models/ holds here.
  registry = await ModelRegistry.load(await makeModelsDir());
  clip = await makeClip(dir, 'clip', { rate: '25', frames: 8 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
  await removeTempDirs();
});

describe('clip jobs and stills under faults', () => {
  it('queues a job under the device its model really runs on, so two jobs never share one at once', async () => {
    const matting = new MattingService(registry);
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const runClip: ClipRunner = async () => {
      await held;
      return { outputs: [], times: {} as never };
    };
    const jobs = new JobService({ dataDir: path.join(dir, 'data-device'), tools: async () => tools, registry, matting, runClip });
    await jobs.init();
    try {
      expect(matting.providerOf(registry.defaultId)).toBeNull(); // the model is not open yet
      const request = { mediaPath: clip.path, background: { imagePath: clip.platePath }, outputs: ['matte' as const], outputDir: path.join(dir, 'out-device') };
      const first = await jobs.create(request);
      // The label is the provider the session opened on (this machine may list GPU providers
      // first: their libraries are absent, so the model runs on the CPU), not the first one tried.
      expect(first.device).toBe(matting.providerOf(registry.defaultId));
      const second = await jobs.create(request);
      expect(second.device).toBe(first.device);
      await expect.poll(() => jobs.get(first.id).state).toBe('running');
      await new Promise((r) => setTimeout(r, 300));
      expect(jobs.get(second.id).state).toBe('queued');
    } finally {
      release();
      await jobs.close();
      await matting.dispose();
    }
  });

  it('refuses a still that waits for a model while the engine shuts down: 503 shutting_down, never a released session', async () => {
    const matting = new MattingService(registry);
    const image = { data: makeFrame(clip.plate, 3), width: clip.width, height: clip.height, channels: 3 as const };
    // The model is not open: the still waits for it while dispose() releases everything.
    const still = matteStill(matting, { image, plate: clip.plate, outputs: ['alpha'], compositeColor: { r: 0, g: 0, b: 0 } });
    await matting.dispose();
    const err = await still.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ShuttingDownError);
    expect(describeError(err, 1).slice(0, 2)).toEqual([503, 'shutting_down']);
    // A new request after shutdown is refused the same way.
    await expect(matting.run(undefined, image, clip.plate)).rejects.toBeInstanceOf(ShuttingDownError);
  });

  it('publishes all outputs of a job or none: a failing second publish takes the first back, the user file stays', async () => {
    const matting = new MattingService(registry);
    const out = path.join(dir, 'out-publish');
    await mkdir(out);
    try {
      const plan = await planClipJob({ tools, registry }, { mediaPath: clip.path, background: { imagePath: clip.platePath }, outputs: ['matte', 'prores4444'], outputDir: out });
      // The user's own file under the first output's name: the job must pick "(2)" and, failing, leave this alone.
      const userFile = `${plan.stem}_matte.mov`;
      await writeFile(userFile, 'made by the user');
      let temps: readonly string[] = [];
      const failure = await runClipJob(tools, matting, plan, {
        onTempFiles: (paths) => (temps = paths),
        onFrame: (done) => {
          // The second output's temp file vanishes before publishing (a disk or a user removing it).
          if (done === plan.span.count) void unlink(temps[1]!);
        },
      }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(Error);
      expect(await readdir(out)).toEqual([path.basename(userFile)]);
      expect(await readFile(userFile, 'utf8')).toBe('made by the user');
      // The same job without the fault publishes both, beside the user's file.
      const result = await runClipJob(tools, matting, plan);
      expect(result.outputs.map((o) => path.basename(o.path))).toEqual([`${path.basename(plan.stem)}_matte (2).mov`, `${path.basename(plan.stem)}_prores4444.mov`]);
      expect((await readdir(out)).sort()).toEqual([path.basename(userFile), ...result.outputs.map((o) => path.basename(o.path))].sort());
    } finally {
      await matting.dispose();
    }
  });

  it('stops a stuck ffmpeg at its stall deadline: a frame grab and an encoder each fail with tool_timeout, their process gone', async () => {
    // FIFOs the test holds open for writing and never writes to: ffmpeg blocks reading them.
    const held: FileHandle[] = [];
    const fifo = async (name: string): Promise<string> => {
      const p = path.join(dir, name);
      await promisify(execFile)('mkfifo', [p]);
      held.push(await open(p, constants.O_RDWR | constants.O_NONBLOCK));
      return p;
    };
    /** PIDs of running ffmpeg processes whose arguments name `p` (read from /proc, nothing is touched). */
    const ffmpegNaming = async (p: string): Promise<number[]> => {
      const pids: number[] = [];
      for (const entry of await readdir('/proc')) {
        if (!/^\d+$/.test(entry)) continue;
        const argv = await readFile(`/proc/${entry}/cmdline`, 'utf8').catch(() => '');
        if (argv.split('\0').includes(p) || argv.includes(p)) pids.push(Number(entry));
      }
      return pids;
    };
    try {
      const info = await probeMedia(tools, clip.path);
      const stuckSource = await fifo('stuck-source');
      const started = Date.now();
      const grab = (async () => {
        for await (const _frame of decodeFrames(tools, { ...info, path: stuckSource }, { first: 0, count: 1 }, { stallMs: 1000 })) return 'frame';
        return 'none';
      })().catch((e: unknown) => e);
      await expect.poll(() => ffmpegNaming(stuckSource).then((p) => p.length)).toBe(1);
      const grabErr = await grab;
      expect(grabErr).toBeInstanceOf(ToolTimeoutError);
      expect(jobErrorCode(grabErr)).toBe('tool_timeout');
      expect(describeError(grabErr, 1).slice(0, 2)).toEqual([504, 'tool_timeout']);
      expect(Date.now() - started).toBeLessThan(30_000);
      await expect.poll(() => ffmpegNaming(stuckSource)).toEqual([]);

      // An encoder whose composite background never arrives takes no frame: the pipe fills, it stalls.
      const stuckBackground = await fifo('stuck-background');
      const out = path.join(dir, 'out-stall');
      await mkdir(out);
      const encoder = await ClipEncoder.start(tools, {
        width: clip.width,
        height: clip.height,
        frameRate: info.frameRate,
        input: 'rgba',
        outputs: [{ kind: 'composite', path: path.join(out, 'stuck_composite') }],
        firstFrameNumber: 0,
        compositeBackground: { videoPath: stuckBackground },
        stallMs: 1000,
      });
      const frame = new Uint8Array(clip.width * clip.height * 4);
      const writeErr = await (async () => {
        for (let i = 0; i < 50; i++) await encoder.write(frame);
      })().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(writeErr).toBeInstanceOf(ToolTimeoutError);
      expect(jobErrorCode(writeErr)).toBe('tool_timeout');
      await encoder.abort();
      await expect.poll(() => ffmpegNaming(stuckBackground)).toEqual([]);
      expect(await readdir(out)).toEqual([]);
    } finally {
      for (const h of held) await h.close();
    }
  });

  it('refuses a clip outside the frame limits when the job is created (413 image_too_large / 422), never as a failed job', async () => {
    const matting = new MattingService(registry);
    const jobs = new JobService({ dataDir: path.join(dir, 'data-limits'), tools: async () => tools, registry, matting });
    await jobs.init();
    try {
      const cases: [string, string, number, string][] = [
        ['wide', '8200x16', 413, 'image_too_large'],
        ['thin', '64x8', 422, 'unsupported_frame_size'],
      ];
      for (const [name, size, status, code] of cases) {
        const media = path.join(dir, `${name}.mkv`);
        await promisify(execFile)(tools.ffmpeg.path, ['-v', 'error', '-f', 'lavfi', '-i', `color=c=gray:s=${size}:r=25`, '-frames:v', '2', '-c:v', 'ffv1', '-y', media]);
        const err = await jobs.create({ mediaPath: media, outputs: ['matte'], outputDir: path.join(dir, 'out-limits') }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(describeError(err, 1).slice(0, 2), name).toEqual([status, code]);
      }
      expect(jobs.list().jobs).toEqual([]);
    } finally {
      await jobs.close();
      await matting.dispose();
    }
  });
});
