// Clip jobs in-process with the real plate model (onnxruntime) and the real ffmpeg, on
// generated clips whose frame number is in the pixels: exact frames in every output, alpha
// through ProRes 4444 within 1/255 of the model's, the real frame rate carried through,
// cancel leaves no temp files, nothing is overwritten, bad input is refused up front.
import { mkdir, mkdtemp, readdir, readFile, rm, stat, chmod } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobEvent, JobRecord } from '../../src/shared/api.js';
import { locateMediaTools, type MediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { makeModelsDir, removeTempDirs } from '../support/bgmv2-models.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { JobService } from '../../src/engine/services/jobs.js';
import { makeClip, readFrameIndex, runCapture, type GeneratedClip } from '../support/clips.js';

let dir: string;
let tools: MediaTools;
let matting: MattingService;
let jobs: JobService;
let clip: GeneratedClip;
let registry: ModelRegistry;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-jobs-'));
  tools = await locateMediaTools();
  // The manifest without model files: the default is the plate model whatever models/ holds here.
  registry = await ModelRegistry.load(await makeModelsDir());
  matting = new MattingService(registry);
  jobs = new JobService({ dataDir: path.join(dir, 'data'), tools: async () => tools, registry, matting });
  await jobs.init();
  clip = await makeClip(dir, 'clip', { rate: '30000/1001', frames: 60 });
});
afterAll(async () => {
  await jobs?.close();
  await matting?.dispose();
  await rm(dir, { recursive: true, force: true });
  await removeTempDirs();
});

function settle(id: string): Promise<JobRecord> {
  return new Promise((resolve) => {
    const check = (): boolean => {
      const r = jobs.get(id);
      if (!['queued', 'running'].includes(r.state)) {
        resolve(r);
        return true;
      }
      return false;
    };
    if (check()) return;
    const off = jobs.subscribe(id, () => {
      if (check()) off();
    });
  });
}

/** Raw frames of a video output, decoded by ffmpeg. */
async function decodeOutput(file: string, pixFmt: 'rgba' | 'gray'): Promise<Buffer> {
  return runCapture('ffmpeg', ['-v', 'error', '-i', file, '-f', 'rawvideo', '-pix_fmt', pixFmt, '-']);
}

async function pngFrames(folder: string): Promise<{ name: string; rgba: Buffer }[]> {
  const names = (await readdir(folder)).filter((n) => n.endsWith('.png')).sort();
  return Promise.all(names.map(async (name) => ({ name, rgba: await sharp(path.join(folder, name)).ensureAlpha().raw().toBuffer() })));
}

describe('clip jobs (real model, real ffmpeg)', () => {
  it('renders exactly the range into prores4444, matte and png, with alpha intact and the real frame rate', async () => {
    const outputDir = path.join(dir, 'out1');
    const events: JobEvent[] = [];
    const job = await jobs.create({
      mediaPath: clip.path,
      range: { in: 12, out: 42, unit: 'frames' },
      background: { imagePath: clip.platePath },
      outputs: ['prores4444', 'matte', 'png'],
      outputDir,
    });
    jobs.subscribe(job.id, (e) => events.push(e));
    expect(job.state).toBe('queued');
    expect(job.media).toMatchObject({ width: 320, height: 180, frameRate: '30000/1001', firstFrame: 12, frameCount: 30 });
    const done = await settle(job.id);
    expect(done.error).toBeUndefined();
    expect(done.state).toBe('done');
    expect(done.progress).toMatchObject({ framesDone: 30, framesTotal: 30 });
    expect(events.some((e) => e.type === 'progress')).toBe(true);
    expect(events.at(-1)?.type).toBe('done');
    const byKind = Object.fromEntries(done.outputs.map((o) => [o.kind, o.path]));
    expect(Object.keys(byKind).sort()).toEqual(['matte', 'png', 'prores4444']);
    for (const p of Object.values(byKind)) expect(path.dirname(p)).toBe(outputDir);

    // PNG sequence: one file per frame, numbered by source frame, the frame number readable
    // in the foreground (the index strip is not in the plate, so it is matted as subject).
    const pngs = await pngFrames(byKind.png!);
    expect(pngs.map((p) => p.name)).toEqual(Array.from({ length: 30 }, (_, i) => `frame_${String(12 + i).padStart(6, '0')}.png`));
    expect(pngs.map((p) => readFrameIndex(p.rgba, 320, 4))).toEqual(Array.from({ length: 30 }, (_, i) => 12 + i));

    // ProRes 4444: same frame count and rate, frame numbers intact, alpha within 1/255 of the PNG alpha (the model's).
    const probe = JSON.parse(
      (await runCapture('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,profile,pix_fmt,r_frame_rate,nb_read_frames', '-of', 'json', byKind.prores4444!])).toString(),
    ) as {
      streams: { codec_name: string; profile: string; pix_fmt: string; r_frame_rate: string; nb_read_frames: string }[];
    };
    expect(probe.streams[0]).toMatchObject({ codec_name: 'prores', profile: '4444', r_frame_rate: '30000/1001', nb_read_frames: '30' });
    expect(probe.streams[0]!.pix_fmt).toMatch(/^yuva444p1[02]le$/);
    const mov = await decodeOutput(byKind.prores4444!, 'rgba');
    const frameBytes = 320 * 180 * 4;
    expect(mov.length).toBe(30 * frameBytes);
    let maxAlphaDiff = 0;
    let subjectPixels = 0;
    let backgroundPixels = 0;
    for (let f = 0; f < 30; f++) {
      const a = mov.subarray(f * frameBytes, (f + 1) * frameBytes);
      expect(readFrameIndex(a, 320, 4)).toBe(12 + f);
      const b = pngs[f]!.rgba;
      for (let i = 3; i < frameBytes; i += 4) {
        maxAlphaDiff = Math.max(maxAlphaDiff, Math.abs(a[i]! - b[i]!));
        if (b[i]! > 200) subjectPixels++;
        if (b[i]! < 50) backgroundPixels++;
      }
    }
    // The model found the subject and the background (the comparison is not between two blank mattes).
    expect(subjectPixels).toBeGreaterThan(30 * 2000);
    expect(backgroundPixels).toBeGreaterThan(30 * 30000);
    expect(maxAlphaDiff).toBeLessThanOrEqual(1);

    // Matte: a greyscale video whose luma is the alpha (Track Matte Key, luma mode).
    const matte = await decodeOutput(byKind.matte!, 'gray');
    expect(matte.length).toBe(30 * 320 * 180);
    let maxMatteDiff = 0;
    for (let f = 0; f < 30; f++) {
      const b = pngs[f]!.rgba;
      for (let p = 0; p < 320 * 180; p++) maxMatteDiff = Math.max(maxMatteDiff, Math.abs(matte[f * 320 * 180 + p]! - b[p * 4 + 3]!));
    }
    expect(maxMatteDiff).toBeLessThanOrEqual(1);
    // Nothing left behind under a temp name.
    expect((await readdir(outputDir)).filter((n) => n.includes('.partial'))).toEqual([]);
  });

  it('matte-only jobs with a plate taken from the clip itself, and never overwriting existing files', async () => {
    const outputDir = path.join(dir, 'out2');
    const request = { mediaPath: clip.path, range: { in: 0.5, out: 1.0 }, background: { timeSeconds: 0 }, outputs: ['matte' as const], outputDir };
    const first = await settle((await jobs.create(request)).id);
    expect(first.state).toBe('done');
    const firstPath = first.outputs[0]!.path;
    const before = await readFile(firstPath);
    const second = await settle((await jobs.create(request)).id);
    expect(second.state).toBe('done');
    expect(second.outputs[0]!.path).not.toBe(firstPath);
    expect(second.outputs[0]!.path).toMatch(/ \(2\)\.mov$/);
    expect((await readFile(firstPath)).equals(before)).toBe(true);
    // in 0.5 s = frame 14 (14.985), out 1.0 s = frames before 29.97 -> 14..29
    expect(first.media).toMatchObject({ firstFrame: 14, frameCount: 16 });
    const frames = (await decodeOutput(firstPath, 'gray')).length / (320 * 180);
    expect(frames).toBe(16);
  });

  it('composite over a colour: exact frame count, subject visible over green', async () => {
    const outputDir = path.join(dir, 'out3');
    const done = await settle(
      (
        await jobs.create({
          mediaPath: clip.path,
          range: { in: 0, out: 10, unit: 'frames' },
          background: { imagePath: clip.platePath },
          outputs: ['composite'],
          outputDir,
          compositeOver: { color: '#00ff00' },
        })
      ).id,
    );
    expect(done.state).toBe('done');
    const rgba = await decodeOutput(done.outputs[0]!.path, 'rgba');
    expect(rgba.length).toBe(10 * 320 * 180 * 4);
    // A background pixel far from the subject and the strip is green; the index strip survives.
    const px = (f: number, x: number, y: number): number[] => [...rgba.subarray(f * 320 * 180 * 4 + (y * 320 + x) * 4, f * 320 * 180 * 4 + (y * 320 + x) * 4 + 3)];
    const [r, g, b] = px(0, 300, 20);
    expect(g).toBeGreaterThan(200);
    expect(r! + b!).toBeLessThan(60);
    expect(readFrameIndex(rgba.subarray(9 * 320 * 180 * 4), 320, 4)).toBe(9);
  });

  it("composite keeps the clip's audio over the range (the other outputs carry none)", async () => {
    // The clip with a tone that starts at 1 s: frames 30-59 are loud, frames 0-29 silent.
    const withAudio = path.join(dir, 'with-audio.mp4');
    await runCapture('ffmpeg', [
      '-v',
      'error',
      '-i',
      clip.path,
      '-f',
      'lavfi',
      '-i',
      'sine=f=440:d=1,adelay=1000|1000,apad=pad_dur=1',
      '-t',
      '2.002',
      '-map',
      '0:v',
      '-map',
      '1:a',
      '-c:v',
      'copy',
      '-c:a',
      'aac',
      '-y',
      withAudio,
    ]);
    const outputDir = path.join(dir, 'out-audio');
    const done = await settle(
      (await jobs.create({ mediaPath: withAudio, range: { in: 36, out: 51, unit: 'frames' }, background: { imagePath: clip.platePath }, outputs: ['composite', 'matte'], outputDir })).id,
    );
    expect(done.state, JSON.stringify(done.error)).toBe('done');
    const probe = async (file: string) =>
      JSON.parse((await runCapture('ffprobe', ['-v', 'error', '-show_streams', '-print_format', 'json', file])).toString()) as { streams: { codec_type: string; duration?: string }[] };
    const composite = done.outputs.find((o) => o.kind === 'composite')!.path;
    const audio = (await probe(composite)).streams.find((s) => s.codec_type === 'audio');
    expect(audio).toBeDefined();
    expect(Math.abs(Number(audio!.duration) - 15 / 29.97)).toBeLessThan(0.06); // the range's length
    // It is the range's audio (the tone), not the clip's silent start.
    const pcm = await runCapture('ffmpeg', ['-v', 'error', '-i', composite, '-map', '0:a', '-f', 's16le', '-ac', '1', '-ar', '8000', 'pipe:1']);
    let peak = 0;
    for (let i = 0; i + 1 < pcm.length; i += 2) peak = Math.max(peak, Math.abs(pcm.readInt16LE(i)));
    expect(peak).toBeGreaterThan(2000); // the tone (amplitude 4096); the silent start would be ~0
    const matte = done.outputs.find((o) => o.kind === 'matte')!.path;
    expect((await probe(matte)).streams.map((s) => s.codec_type)).toEqual(['video']);
  });

  it('runs one job at a time per device: the second waits in the queue', async () => {
    const bg = { imagePath: clip.platePath };
    const request = { mediaPath: clip.path, background: bg, range: { in: 0, out: 15, unit: 'frames' as const }, outputs: ['matte' as const], outputDir: path.join(dir, 'q') };
    const a = await jobs.create(request);
    const b = await jobs.create(request);
    expect(a.device).toBe(b.device);
    expect(jobs.get(b.id).state).toBe('queued');
    const [doneA, doneB] = await Promise.all([settle(a.id), settle(b.id)]);
    expect([doneA.state, doneB.state]).toEqual(['done', 'done']);
    expect(Date.parse(doneB.startedAt!)).toBeGreaterThanOrEqual(Date.parse(doneA.finishedAt!));
  });

  it('composite over a looped, scaled video: exact frame count, the background video shows through', async () => {
    // A 5-frame blue 160x90 clip behind a 10-frame range: looped twice and scaled to 320x180.
    const blue = path.join(dir, 'blue.mp4');
    await runCapture('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'color=c=0x0000ff:s=160x90:r=25', '-frames:v', '5', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-y', blue]);
    const done = await settle(
      (
        await jobs.create({
          mediaPath: clip.path,
          range: { in: 20, out: 30, unit: 'frames' },
          background: { imagePath: clip.platePath },
          outputs: ['composite'],
          outputDir: path.join(dir, 'over-video'),
          compositeOver: { videoPath: blue },
        })
      ).id,
    );
    expect(done.state).toBe('done');
    const rgba = await decodeOutput(done.outputs[0]!.path, 'rgba');
    const size = 320 * 180 * 4;
    expect(rgba.length).toBe(10 * size);
    for (const f of [0, 9]) {
      const i = f * size + (20 * 320 + 300) * 4;
      expect(rgba[i + 2]).toBeGreaterThan(200);
      expect(rgba[i]! + rgba[i + 1]!).toBeLessThan(60);
      expect(readFrameIndex(rgba.subarray(f * size), 320, 4)).toBe(20 + f);
    }
  });

  it('cancel stops a running job and leaves no temp files and no outputs', async () => {
    const long = await makeClip(dir, 'long', { rate: '25', frames: 400 });
    const outputDir = path.join(dir, 'out4');
    const job = await jobs.create({ mediaPath: long.path, background: { imagePath: long.platePath }, outputs: ['prores4444', 'png'], outputDir });
    await new Promise<void>((resolve) => {
      const off = jobs.subscribe(job.id, (e) => {
        if (e.type === 'progress' && e.progress.framesDone >= 5) {
          off();
          resolve();
        }
      });
    });
    const cancelled = await jobs.cancel(job.id);
    expect(cancelled.state).toBe('cancelled');
    expect(cancelled.outputs).toEqual([]);
    expect(await readdir(outputDir)).toEqual([]);
    await expect(jobs.cancel(job.id)).rejects.toMatchObject({ code: 'job_not_active' });
  });

  it('refuses bad requests up front with clear errors, and keeps working after', async () => {
    const code = async (req: Parameters<JobService['create']>[0]): Promise<string> =>
      jobs.create(req).then(
        () => 'accepted',
        (e: { code?: string; message: string }) => `${e.code}: ${e.message}`,
      );
    const bg = { imagePath: clip.platePath };
    expect(await code({ mediaPath: path.join(dir, 'missing.mp4'), background: bg })).toMatch(/^media_not_found/);
    expect(await code({ mediaPath: clip.platePath, background: bg })).toMatch(/^not_a_video: .*still image/);
    expect(await code({ mediaPath: clip.path, background: bg, range: { in: 1.5, out: 9 } })).toMatch(/^range_outside_media: .*60 frames/);
    expect(await code({ mediaPath: clip.path })).toMatch(/^plate_required/);
    const small = await makeClip(dir, 'small', { width: 160, height: 90, frames: 3 });
    expect(await code({ mediaPath: clip.path, background: { imagePath: small.platePath } })).toMatch(/^plate_size_mismatch/);
    expect(await code({ mediaPath: clip.path, background: bg, model: 'nope' })).toMatch(/^unknown_model/);
    const locked = path.join(dir, 'locked');
    await mkdir(locked);
    await chmod(locked, 0o500);
    const isRoot = process.getuid?.() === 0;
    // root ignores permission bits: a path under a regular file is unwritable for everyone.
    const blocker = path.join(dir, 'afile');
    await (await import('node:fs/promises')).writeFile(blocker, 'x');
    expect(await code({ mediaPath: clip.path, background: bg, outputDir: isRoot ? path.join(blocker, 'sub') : locked })).toMatch(/^output_dir_unwritable/);
    // Kernel filesystems are no output folders, even where root could create entries.
    for (const outputDir of ['/proc', '/proc/self/cleanplate', '/sys/kernel/cleanplate']) {
      expect(await code({ mediaPath: clip.path, background: bg, outputDir })).toMatch(/^output_dir_unwritable: .*kernel's (proc|sysfs) filesystem/);
    }
    // still serving
    const ok = await settle((await jobs.create({ mediaPath: clip.path, background: bg, range: { in: 0, out: 2, unit: 'frames' }, outputs: ['matte'], outputDir: path.join(dir, 'out5') })).id);
    expect(ok.state).toBe('done');
  });

  it('odd frame sizes: png and composite are exact, ProRes outputs are refused with a clear error', async () => {
    const odd = await makeClip(dir, 'odd', { width: 321, height: 181, rate: '60', frames: 12, codec: 'ffv1', container: 'mkv' });
    const outputDir = path.join(dir, 'out-odd');
    await expect(jobs.create({ mediaPath: odd.path, background: { imagePath: odd.platePath }, outputs: ['matte'], outputDir })).rejects.toMatchObject({
      code: 'unsupported_frame_size',
      message: expect.stringMatching(/even frame width; this clip is 321x181/),
    });
    const done = await settle((await jobs.create({ mediaPath: odd.path, background: { imagePath: odd.platePath }, outputs: ['png', 'composite'], outputDir })).id);
    expect(done.state).toBe('done');
    const pngs = await pngFrames(done.outputs.find((o) => o.kind === 'png')!.path);
    expect(pngs.map((p) => readFrameIndex(p.rgba, 321, 4))).toEqual(Array.from({ length: 12 }, (_, i) => i));
    const comp = await decodeOutput(done.outputs.find((o) => o.kind === 'composite')!.path, 'rgba');
    expect(comp.length).toBe(12 * 321 * 181 * 4);
    expect(readFrameIndex(comp.subarray(11 * 321 * 181 * 4), 321, 4)).toBe(11);
  });

  it('a rotated clip (display matrix) is rendered as displayed, with its plate taken from itself', async () => {
    const rotated = path.join(dir, 'rotated.mp4');
    await runCapture('ffmpeg', ['-v', 'error', '-i', clip.path, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', '-y', rotated]);
    const done = await settle(
      (await jobs.create({ mediaPath: rotated, range: { in: 5, out: 13, unit: 'frames' }, background: { timeSeconds: 0 }, outputs: ['prores4444'], outputDir: path.join(dir, 'out-rot') })).id,
    );
    expect(done.state).toBe('done');
    expect(done.media).toMatchObject({ width: 180, height: 320, rotation: 90, frameCount: 8 });
    const probe = (await runCapture('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=width,height,nb_read_frames', '-of', 'csv=p=0', done.outputs[0]!.path])).toString().trim();
    expect(probe).toBe('180,320,8');
  });

  it('without outputDir, outputs go to a "CleanPlate Mattes" folder beside the media', async () => {
    const done = await settle((await jobs.create({ mediaPath: clip.path, range: { in: 0, out: 2, unit: 'frames' }, background: { imagePath: clip.platePath }, outputs: ['matte'] })).id);
    expect(done.state).toBe('done');
    expect(done.outputs[0]!.path).toBe(path.join(dir, 'CleanPlate Mattes', 'clip_f0-1_matte.mov'));
  });

  it('a truncated clip fails the job with media_unreadable and publishes nothing', async () => {
    const src = await makeClip(dir, 'trunc', { frames: 60, extraArgs: ['-movflags', '+faststart'] });
    const { truncate } = await import('node:fs/promises');
    await truncate(src.path, Math.floor((await stat(src.path)).size * 0.5));
    const outputDir = path.join(dir, 'out6');
    const done = await settle((await jobs.create({ mediaPath: src.path, background: { imagePath: src.platePath }, outputs: ['prores4444'], outputDir })).id);
    expect(done.state).toBe('failed');
    expect(done.error?.code).toBe('media_unreadable');
    expect(await readdir(outputDir)).toEqual([]);
  });

  it('shutdown with a job running records it as interrupted, removes its temp files, and it can be re-run', async () => {
    const dataDir = path.join(dir, 'data-shutdown');
    const svc = new JobService({ dataDir, tools: async () => tools, registry, matting });
    await svc.init();
    const long = await makeClip(dir, 'long2', { rate: '25', frames: 300 });
    const outputDir = path.join(dir, 'out-shutdown');
    const job = await svc.create({ mediaPath: long.path, background: { imagePath: long.platePath }, outputs: ['prores4444'], outputDir });
    const queued = await svc.create({ mediaPath: long.path, background: { imagePath: long.platePath }, outputs: ['matte'], outputDir });
    const events: JobEvent[] = [];
    svc.subscribe(job.id, (e) => events.push(e));
    while (svc.get(job.id).progress.framesDone < 3) await new Promise((r) => setTimeout(r, 20));
    await svc.close();
    expect(svc.get(job.id).state).toBe('interrupted');
    expect(svc.get(queued.id).state).toBe('interrupted');
    expect(events.at(-1)?.type).toBe('interrupted');
    expect(await readdir(outputDir)).toEqual([]);
    const restarted = new JobService({ dataDir, tools: async () => tools, registry, matting });
    await restarted.init();
    expect(restarted.get(job.id).state).toBe('interrupted');
    const rerun = await restarted.create({ ...restarted.get(job.id).request, range: { in: 0, out: 5, unit: 'frames' } }, job.id);
    expect(rerun.rerunOf).toBe(job.id);
    await expect(restarted.rerun(rerun.id)).rejects.toMatchObject({ code: 'job_still_active' });
    await restarted.cancel(rerun.id);
    await restarted.close();
  });

  it('a fresh service on the same data dir lists the finished jobs with their outputs', async () => {
    const again = new JobService({ dataDir: path.join(dir, 'data'), tools: async () => tools, registry, matting });
    await again.init();
    const listed = again.list().jobs;
    expect(listed.length).toBe(jobs.list().jobs.length);
    for (const j of listed.filter((x) => x.state === 'done')) for (const o of j.outputs) expect((await stat(o.path)).size).toBeGreaterThan(0);
    await again.close();
  });
});
