// The clip pipeline at 1080p, each stage alone and all together, measured in the same run so
// the ratio compares like with like: decode-only (ffmpeg -> rgb24 frames in JS), model-only
// (the default model on frames already in memory), encode-only (RGBA frames -> ProRes 4444),
// and end-to-end (a real clip job: decode -> matte -> encode, bounded and overlapped).
// Goal: end-to-end / model-only >= 0.9, i.e. the pipeline hides decode and encode behind the model.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { Frame } from '../../src/engine/matting/types.js';
import { decodeFrames } from '../../src/engine/media/decode.js';
import { ClipEncoder } from '../../src/engine/media/encode.js';
import { locateMediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { runTool } from '../../src/engine/media/process.js';
import { planClipJob, runClipJob } from '../../src/engine/services/clip-job.js';
import type { StageTimes } from '../../src/engine/pipeline/bounded.js';
import { MattingService } from '../../src/engine/services/matting-service.js';

const W = 1920;
const H = 1080;
const RATE = '30000/1001';
const SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 4);
const MODEL_FRAMES = 30;

const fps = (frames: number, ms: number): number => (frames * 1000) / ms;

/**
 * CPU seconds used by this process and its finished children (Linux /proc/self/stat: utime,
 * stime, cutime, cstime; undefined elsewhere): onnxruntime's threads and every ffmpeg the stage
 * ran, and nothing else on the machine, so other load does not inflate the per-stage costs.
 */
function processTreeCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number);
    const [utime = 0, stime = 0, cutime = 0, cstime = 0] = fields.slice(11, 15);
    return (utime + stime + cutime + cstime) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

/** Runs `work`, returning its wall time (ms) and the machine CPU seconds it took. */
async function measure(work: () => Promise<number>): Promise<{ frames: number; ms: number; cpu: number | undefined }> {
  const c0 = processTreeCpuSeconds();
  const t0 = performance.now();
  const frames = await work();
  const ms = performance.now() - t0;
  const c1 = processTreeCpuSeconds();
  return { frames, ms, cpu: c0 !== undefined && c1 !== undefined ? c1 - c0 : undefined };
}

const cpuPerFrameMs = (m: { frames: number; cpu: number | undefined }): number | undefined => (m.cpu === undefined ? undefined : (m.cpu * 1000) / m.frames);

export default async function clipBench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-clip-'));
  const tools = await locateMediaTools();
  const registry = await ModelRegistry.load();
  const matting = new MattingService(registry);
  try {
    // A static textured plate and a clip of a block moving over it, made by ffmpeg's lavfi.
    const plate = path.join(dir, 'plate.png');
    const clip = path.join(dir, 'clip.mp4');
    await runTool(tools.ffmpeg.path, [
      '-v', 'error', '-f', 'lavfi', '-i',
      `color=c=gray:s=${W}x${H},format=rgb24,geq=r='128+60*sin(X/23)+20*sin(Y/7)':g='128+50*cos(Y/17)':b='128+40*sin((X+Y)/31)'`,
      '-frames:v', '1', '-y', plate,
    ]);
    await runTool(tools.ffmpeg.path, [
      '-v', 'error', '-loop', '1', '-framerate', RATE, '-i', plate, '-f', 'lavfi', '-i', `color=c=0xd02030:s=420x640:r=${RATE}`,
      '-filter_complex', `[0][1]overlay=x='mod(t*400,${W - 420})':y=300:shortest=1`, '-t', String(SECONDS),
      '-c:v', 'libx264', '-preset', 'ultrafast', '-crf', '16', '-pix_fmt', 'yuv420p', '-y', clip,
    ]);
    const plan = await planClipJob({ tools, registry }, { mediaPath: clip, background: { imagePath: plate }, outputs: ['prores4444'], outputDir: path.join(dir, 'out') });
    const { info, span } = plan;
    console.log(`clip: ${info.width}x${info.height} ${info.frameRateText} fps, ${span.count} frames (${info.codec}); ffmpeg ${tools.ffmpeg.version} (${tools.ffmpeg.source}); ${os.availableParallelism()} cores`);

    // Warm-up: compile the model for this size, with and without foreground (not timed).
    const first: Frame[] = [];
    for await (const f of decodeFrames(tools, info, { first: 0, count: MODEL_FRAMES })) first.push(f);
    await matting.run(plan.modelId, first[0]!, plan.plate, { foreground: true });
    await matting.run(plan.modelId, first[0]!, plan.plate, { foreground: false });

    const decode = await measure(async () => {
      let n = 0;
      for await (const _f of decodeFrames(tools, info, span)) n++;
      return n;
    });
    const foregrounds: Uint8Array[] = [];
    const model = await measure(async () => {
      for (const f of first) foregrounds.push((await matting.run(plan.modelId, f, plan.plate, { foreground: true })).result.foreground!.data);
      return first.length;
    });
    const alphaOnly = await measure(async () => {
      for (const f of first) await matting.run(plan.modelId, f, plan.plate, { foreground: false });
      return first.length;
    });
    const encode = await measure(async () => {
      const encoder = await ClipEncoder.start(tools, {
        width: W, height: H, frameRate: info.frameRate, input: 'rgba', firstFrameNumber: 0,
        outputs: [{ kind: 'prores4444', path: path.join(dir, 'enc-only') }],
      });
      for (let i = 0; i < span.count; i++) await encoder.write(foregrounds[i % foregrounds.length]!);
      await encoder.finish();
      return span.count;
    });
    const e2eRun = async (service: MattingService): Promise<{ m: Awaited<ReturnType<typeof measure>>; busy: StageTimes }> => {
      let busy: StageTimes | undefined;
      const m = await measure(async () => {
        busy = (await runClipJob(tools, service, plan)).times;
        return span.count;
      });
      return { m, busy: busy! };
    };
    const e2e = await e2eRun(matting);

    // The same model with one onnxruntime thread, leaving a core to ffmpeg: shows whether the
    // pipeline overlaps decode and encode with inference when the CPU has room for it.
    const saved = process.env.CLEANPLATE_THREADS;
    process.env.CLEANPLATE_THREADS = '1';
    const single = new MattingService(registry);
    let model1: Awaited<ReturnType<typeof measure>>;
    let e2e1: Awaited<ReturnType<typeof e2eRun>>;
    try {
      await single.run(plan.modelId, first[0]!, plan.plate, { foreground: true });
      model1 = await measure(async () => {
        for (const f of first) await single.run(plan.modelId, f, plan.plate, { foreground: true });
        return first.length;
      });
      e2e1 = await e2eRun(single);
    } finally {
      await single.dispose();
      if (saved === undefined) delete process.env.CLEANPLATE_THREADS;
      else process.env.CLEANPLATE_THREADS = saved;
    }

    const rate = (m: { frames: number; ms: number }): number => fps(m.frames, m.ms);
    const cpu = (m: Parameters<typeof cpuPerFrameMs>[0]): string => {
      const v = cpuPerFrameMs(m);
      return v === undefined ? '' : `  ${v.toFixed(0).padStart(4)} ms CPU/frame`;
    };
    const cores = os.availableParallelism();
    const sequential = 1 / (1 / rate(decode) + 1 / rate(model) + 1 / rate(encode));
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine slows every figure; CPU figures count this process and its ffmpeg children only)`);
    console.log(`decode-only      ${rate(decode).toFixed(1).padStart(6)} fps${cpu(decode)}`);
    console.log(`encode-only      ${rate(encode).toFixed(1).padStart(6)} fps${cpu(encode)}   (prores_aw 4444 + alpha, incl. RGBA->YUVA 10-bit)`);
    const report = (label: string, m: typeof model, alpha: typeof model | undefined, job: typeof e2e): void => {
      const pct = (v: number): string => `${((v / job.m.ms) * 100).toFixed(0)}%`;
      console.log(`-- model on ${label}`);
      console.log(`model-only       ${rate(m).toFixed(1).padStart(6)} fps${cpu(m)}${alpha ? `   (alpha only: ${rate(alpha).toFixed(1)} fps)` : ''}`);
      const used = job.m.cpu === undefined ? '' : `   (used ${(job.m.cpu / (job.m.ms / 1000)).toFixed(2)} of ${cores} cores)`;
      console.log(`end-to-end       ${rate(job.m).toFixed(1).padStart(6)} fps${cpu(job.m)}${used}`);
      console.log(`ratio end-to-end / model-only = ${(rate(job.m) / rate(m)).toFixed(2)}   (goal >= 0.9)`);
      console.log(
        `model stage in the job: running ${pct(job.busy.transform)}, starved for decoded frames ${pct(job.busy.transformStarved)}, ` +
          `blocked by the encoder ${pct(job.busy.transformBlocked)}; ${(job.busy.transform / span.count).toFixed(0)} ms/frame vs ${(m.ms / m.frames).toFixed(0)} alone`,
      );
    };
    report(`all ${cores} cores (default)`, model, alphaOnly, e2e);
    const [cm, cd, ce] = [cpuPerFrameMs(model), cpuPerFrameMs(decode), cpuPerFrameMs(encode)];
    if (cm !== undefined && cd !== undefined && ce !== undefined) {
      // With every core busy, a frame costs the sum of the stages' CPU time: that bounds the ratio.
      const cpuBoundFps = (cores * 1000) / (cm + cd + ce);
      console.log(
        `CPU bound: ${cm.toFixed(0)} + ${cd.toFixed(0)} + ${ce.toFixed(0)} ms CPU per frame (model + decode + encode) on ${cores} cores -> at most ` +
          `${Math.min(cpuBoundFps, rate(model)).toFixed(1)} fps end-to-end, ratio <= ${Math.min(1, cpuBoundFps / rate(model)).toFixed(2)}; ` +
          `stages one after another: ${sequential.toFixed(1)} fps`,
      );
    }
    report('1 thread (CLEANPLATE_THREADS=1), a core left for ffmpeg', model1, undefined, e2e1);
  } finally {
    await matting.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
