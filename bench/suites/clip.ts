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
import { probeMedia } from '../../src/engine/media/probe.js';
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
 * CPU seconds used by the whole machine so far (Linux /proc/stat; undefined elsewhere). Child
 * processes (ffmpeg) and onnxruntime's threads are all counted, so per-stage CPU costs come out
 * comparable. Other load on the machine inflates them: the bench prints the load average.
 */
function machineCpuSeconds(): number | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / 100; // USER_HZ
  } catch {
    return undefined;
  }
}

/** Runs `work`, returning its wall time (ms) and the machine CPU seconds it took. */
async function measure(work: () => Promise<number>): Promise<{ frames: number; ms: number; cpu: number | undefined }> {
  const c0 = machineCpuSeconds();
  const t0 = performance.now();
  const frames = await work();
  const ms = performance.now() - t0;
  const c1 = machineCpuSeconds();
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
    let busy: StageTimes | undefined;
    const e2e = await measure(async () => {
      busy = (await runClipJob(tools, matting, plan)).times;
      return span.count;
    });

    const rate = (m: { frames: number; ms: number }): number => fps(m.frames, m.ms);
    const cpu = (m: Parameters<typeof cpuPerFrameMs>[0]): string => {
      const v = cpuPerFrameMs(m);
      return v === undefined ? '' : `  ${v.toFixed(0).padStart(4)} ms CPU/frame`;
    };
    const sequential = 1 / (1 / rate(decode) + 1 / rate(model) + 1 / rate(encode));
    console.log(`load average before the e2e run: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`decode-only      ${rate(decode).toFixed(1).padStart(6)} fps${cpu(decode)}`);
    console.log(`model-only       ${rate(model).toFixed(1).padStart(6)} fps${cpu(model)}   (alpha only: ${rate(alphaOnly).toFixed(1)} fps)`);
    console.log(`encode-only      ${rate(encode).toFixed(1).padStart(6)} fps${cpu(encode)}   (prores_aw 4444 + alpha, incl. RGBA->YUVA 10-bit)`);
    console.log(`end-to-end       ${rate(e2e).toFixed(1).padStart(6)} fps${cpu(e2e)}   (stages one after another would give ${sequential.toFixed(1)} fps)`);
    console.log(`ratio end-to-end / model-only = ${(rate(e2e) / rate(model)).toFixed(2)}   (goal >= 0.9)`);
    if (busy) {
      const pct = (v: number): string => `${((v / e2e.ms) * 100).toFixed(0)}%`;
      console.log(`model stage in the job: running ${pct(busy.transform)}, starved for decoded frames ${pct(busy.transformStarved)}, blocked by the encoder ${pct(busy.transformBlocked)}; ${(busy.transform / span.count).toFixed(0)} ms/frame vs ${(model.ms / model.frames).toFixed(0)} alone`);
    }
    const [cm, cd, ce] = [cpuPerFrameMs(model), cpuPerFrameMs(decode), cpuPerFrameMs(encode)];
    if (cm !== undefined && cd !== undefined && ce !== undefined) {
      // With every core busy, a frame costs the sum of the stages' CPU time: that bounds the ratio.
      const cores = os.availableParallelism();
      const cpuBoundFps = (cores * 1000) / (cm + cd + ce);
      console.log(
        `CPU bound on ${cores} cores: ${cm.toFixed(0)} + ${cd.toFixed(0)} + ${ce.toFixed(0)} ms CPU per frame (model + decode + encode) -> at most ` +
          `${Math.min(cpuBoundFps, rate(model)).toFixed(1)} fps end-to-end, ratio <= ${Math.min(1, cpuBoundFps / rate(model)).toFixed(2)}`,
      );
    }
  } finally {
    await matting.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
