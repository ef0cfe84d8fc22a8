// The clip pipeline at 1080p, each stage alone and all together, measured in the same run so
// the ratio compares like with like: decode-only (ffmpeg -> rgb24 frames in JS), model-only
// (the default model on frames already in memory), encode-only (RGBA frames -> ProRes 4444),
// and end-to-end (a real clip job: decode -> matte -> encode, bounded and overlapped).
// Goal: end-to-end / model-only >= 0.9, i.e. the pipeline hides decode and encode behind the model.
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
import { MattingService } from '../../src/engine/services/matting-service.js';

const W = 1920;
const H = 1080;
const RATE = '30000/1001';
const SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 4);
const MODEL_FRAMES = 24;

const fps = (frames: number, ms: number): number => (frames * 1000) / ms;

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

    // Warm-up: compile the model for this size (not timed).
    const first: Frame[] = [];
    for await (const f of decodeFrames(tools, info, { first: 0, count: MODEL_FRAMES })) first.push(f);
    await matting.run(plan.modelId, first[0]!, plan.plate, { foreground: true });

    // Decode only.
    let t0 = performance.now();
    let n = 0;
    for await (const _f of decodeFrames(tools, info, span)) n++;
    const decodeFps = fps(n, performance.now() - t0);

    // Model only (frames in memory, foreground on: what prores4444 needs).
    const foregrounds: Uint8Array[] = [];
    t0 = performance.now();
    for (const f of first) {
      const { result } = await matting.run(plan.modelId, f, plan.plate, { foreground: true });
      foregrounds.push(result.foreground!.data);
    }
    const modelFps = fps(first.length, performance.now() - t0);

    // Model only, alpha only (what a matte-only job needs).
    t0 = performance.now();
    for (const f of first) await matting.run(plan.modelId, f, plan.plate, { foreground: false });
    const alphaFps = fps(first.length, performance.now() - t0);

    // Encode only: the model's RGBA frames to ProRes 4444, as many frames as the clip.
    const encoder = await ClipEncoder.start(tools, {
      width: W, height: H, frameRate: info.frameRate, input: 'rgba', firstFrameNumber: 0,
      outputs: [{ kind: 'prores4444', path: path.join(dir, 'enc-only') }],
    });
    t0 = performance.now();
    for (let i = 0; i < span.count; i++) await encoder.write(foregrounds[i % foregrounds.length]!);
    await encoder.finish();
    const encodeFps = fps(span.count, performance.now() - t0);

    // End to end: a real job.
    t0 = performance.now();
    const result = await runClipJob(tools, matting, plan);
    const e2eMs = performance.now() - t0;
    const e2eFps = fps(span.count, e2eMs);
    const busy = result.times;

    const sequential = 1 / (1 / decodeFps + 1 / modelFps + 1 / encodeFps);
    console.log(`decode-only      ${decodeFps.toFixed(1).padStart(6)} fps`);
    console.log(`model-only       ${modelFps.toFixed(1).padStart(6)} fps   (alpha only: ${alphaFps.toFixed(1)} fps)`);
    console.log(`encode-only      ${encodeFps.toFixed(1).padStart(6)} fps   (prores_aw 4444 + alpha)`);
    console.log(`end-to-end       ${e2eFps.toFixed(1).padStart(6)} fps   (no overlap would give ${sequential.toFixed(1)} fps)`);
    console.log(`ratio end-to-end / model-only = ${(e2eFps / modelFps).toFixed(2)}   (goal >= 0.9)`);
    console.log(
      `in the job: model busy ${((busy.transform / e2eMs) * 100).toFixed(0)}% of the time, ` +
        `waiting on decode ${((busy.source / e2eMs) * 100).toFixed(0)}%, on the encoder pipe ${((busy.sink / e2eMs) * 100).toFixed(0)}%`,
    );
    console.log(`model per frame: ${(1000 / modelFps).toFixed(1)} ms alone, ${(busy.transform / span.count).toFixed(1)} ms inside the job (decode and encode share the ${os.availableParallelism()} cores)`);
  } finally {
    await matting.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
