// The clip pipeline at 1080p, each stage alone and all together, measured in the same run so
// the ratio compares like with like: decode-only (ffmpeg -> rgb24 frames in JS), model-only
// (the default model on frames already in memory), encode-only (RGBA frames -> ProRes 4444),
// and end-to-end (a real clip job: decode -> matte -> encode, bounded and overlapped).
// Goal: end-to-end / model-only >= 0.9 with the engine's thread policy, i.e. the pipeline hides
// decode and encode behind the model: as found and with 2 busy-loop processes the bench starts.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { inferenceThreads, NO_SIDE_WORK, parallelRuns, type SideWork } from '../../src/engine/matting/thread-policy.js';
import type { Frame } from '../../src/engine/frame.js';
import { decodeFrames } from '../../src/engine/media/decode.js';
import { ClipEncoder } from '../../src/engine/media/encode.js';
import { locateMediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { runTool } from '../../src/engine/media/process.js';
import { encodeRedBlockClip } from '../red-block-clip.js';
import { clipSideWork, planClipJob, runClipJob } from '../../src/engine/services/clip-job.js';
import type { StageTimes } from '../../src/engine/pipeline/bounded.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { startBusyLoad } from '../busy-load.js';
import { stageWaits } from '../stage-waits.js';
import { withEnv } from '../with-env.js';

const W = 1920;
const H = 1080;
const RATE = '30000/1001';
const SECONDS = Number(process.env.BENCH_CLIP_SECONDS ?? 4);
const MODEL_FRAMES = Number(process.env.BENCH_CLIP_MODEL_FRAMES ?? 30);
/** BENCH_CLIP_LOAD=found|busy runs one of the two conditions (default both). */
const CONDITIONS = process.env.BENCH_CLIP_LOAD ?? 'found,busy';
const BUSY_LOOPS = 2;

const fps = (frames: number, ms: number): number => (frames * 1000) / ms;

/**
 * CPU seconds used by this process and its finished children (Linux /proc/self/stat: utime,
 * stime, cutime, cstime; undefined elsewhere): onnxruntime's threads and every ffmpeg the stage
 * ran, and nothing else on the machine, so other load does not inflate the per-stage costs.
 */
function processTreeCpuSeconds(): number | undefined {
  try {
    const stat = readFileSync('/proc/self/stat', 'utf8');
    const fields = stat
      .slice(stat.lastIndexOf(')') + 2)
      .split(' ')
      .map(Number);
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
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      `color=c=gray:s=${W}x${H},format=rgb24,geq=r='128+60*sin(X/23)+20*sin(Y/7)':g='128+50*cos(Y/17)':b='128+40*sin((X+Y)/31)'`,
      '-frames:v',
      '1',
      '-y',
      plate,
    ]);
    await encodeRedBlockClip(tools.ffmpeg.path, { plate, out: clip, rate: RATE, seconds: SECONDS, filter: `[0][1]overlay=x='mod(t*400,${W - 420})':y=300:shortest=1` });
    const plan = await planClipJob({ tools, registry }, { mediaPath: clip, background: { imagePath: plate }, outputs: ['prores4444'], outputDir: path.join(dir, 'out') });
    const { info, span } = plan;
    console.log(
      `clip: ${info.width}x${info.height} ${info.frameRateText} fps, ${span.count} frames (${info.codec}); ffmpeg ${tools.ffmpeg.version} (${tools.ffmpeg.source}); ${os.availableParallelism()} cores`,
    );

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
    for (const f of first) foregrounds.push((await matting.run(plan.modelId, f, plan.plate, { foreground: true })).result.foreground!.data);
    const encode = await measure(async () => {
      const encoder = await ClipEncoder.start(tools, {
        width: W,
        height: H,
        frameRate: info.frameRate,
        input: 'rgba',
        firstFrameNumber: 0,
        outputs: [{ kind: 'prores4444', path: path.join(dir, 'enc-only') }],
      });
      for (let i = 0; i < span.count; i++) await encoder.write(foregrounds[i % foregrounds.length]!);
      await encoder.finish();
      return span.count;
    });
    const rate = (m: { frames: number; ms: number }): number => fps(m.frames, m.ms);
    const cpu = (m: Parameters<typeof cpuPerFrameMs>[0]): string => {
      const v = cpuPerFrameMs(m);
      return v === undefined ? '' : `  ${v.toFixed(0).padStart(4)} ms CPU/frame`;
    };
    const cores = os.availableParallelism();
    const load = (): string =>
      os
        .loadavg()
        .map((l) => l.toFixed(1))
        .join(' ');
    console.log(`CPU figures count this process and its ffmpeg children only; other work on the machine slows every wall-clock figure`);
    console.log(`decode-only      ${rate(decode).toFixed(1).padStart(6)} fps${cpu(decode)}`);
    console.log(`encode-only      ${rate(encode).toFixed(1).padStart(6)} fps${cpu(encode)}   (prores_aw 4444 + alpha, incl. RGBA->YUVA 10-bit)`);

    const work = clipSideWork(plan);
    const jobThreads = inferenceThreads(work);
    const stillThreads = inferenceThreads(NO_SIDE_WORK);
    const modelOnly = (service: MattingService, w: SideWork) =>
      measure(async () => {
        for (const f of first) await service.run(plan.modelId, f, plan.plate, { foreground: true }, w);
        return first.length;
      });
    const job = async (service: MattingService): Promise<{ m: Awaited<ReturnType<typeof measure>>; busy: StageTimes }> => {
      let busy: StageTimes | undefined;
      const m = await measure(async () => {
        busy = (await runClipJob(tools, service, plan)).times;
        return span.count;
      });
      return { m, busy: busy! };
    };
    // The job with every core forced on onnxruntime (what the engine did before the policy).
    const allCores = new MattingService(registry);
    const forced = <T>(fn: () => Promise<T>): Promise<T> => withEnv('CLEANPLATE_THREADS', String(cores), fn);
    // The job with one inference run at a time (CLEANPLATE_PARALLEL=1), against the policy's
    // parallelRuns() (2 on 2 cores: the fused prior in a second worker beside the plate graph).
    const parallel = parallelRuns();
    const oneRun = new MattingService(registry);
    const serial = <T>(fn: () => Promise<T>): Promise<T> => withEnv('CLEANPLATE_PARALLEL', '1', fn);
    await matting.run(plan.modelId, first[0]!, plan.plate, { foreground: true }, work); // compile the job's session
    await forced(() => allCores.run(plan.modelId, first[0]!, plan.plate, { foreground: true }, work));
    await serial(() => oneRun.run(plan.modelId, first[0]!, plan.plate, { foreground: true }, work));

    const condition = async (label: string): Promise<void> => {
      const still = await modelOnly(matting, NO_SIDE_WORK);
      const asJob = await modelOnly(matting, work);
      const e2e = await job(matting);
      const e2eAll = await forced(() => job(allCores));
      const e2eSerial = await serial(() => job(oneRun));
      // Parallel vs 1 run at a time frame by frame, interleaved, so a load that changes during the
      // run (other work on the machine) weighs on both alike.
      const perFrame: { par: number[]; one: number[] } = { par: [], one: [] };
      for (const f of first) {
        let t0 = performance.now();
        await matting.run(plan.modelId, f, plan.plate, { foreground: true }, work);
        perFrame.par.push(performance.now() - t0);
        t0 = performance.now();
        await serial(() => oneRun.run(plan.modelId, f, plan.plate, { foreground: true }, work));
        perFrame.one.push(performance.now() - t0);
      }
      const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
      const best = Math.max(rate(still), rate(asJob));
      const pct = (v: number): string => `${((v / e2e.m.ms) * 100).toFixed(0)}%`;
      console.log(`-- ${label}; load average after: ${load()}`);
      console.log(`model-only, ${stillThreads} threads (a still)    ${rate(still).toFixed(1).padStart(6)} fps${cpu(still)}`);
      console.log(`model-only, ${jobThreads} thread(s) (the job's)  ${rate(asJob).toFixed(1).padStart(6)} fps${cpu(asJob)}`);
      const used = e2e.m.cpu === undefined ? '' : `   (used ${(e2e.m.cpu / (e2e.m.ms / 1000)).toFixed(2)} of ${cores} cores)`;
      console.log(`end-to-end, policy (${jobThreads} thread(s))      ${rate(e2e.m).toFixed(1).padStart(6)} fps${cpu(e2e.m)}${used}`);
      console.log(`end-to-end, all ${cores} cores forced        ${rate(e2eAll.m).toFixed(1).padStart(6)} fps${cpu(e2eAll.m)}`);
      console.log(`end-to-end, policy, 1 run at a time     ${rate(e2eSerial.m).toFixed(1).padStart(6)} fps${cpu(e2eSerial.m)}   (measured after the two above)`);
      const [par, one] = [median(perFrame.par), median(perFrame.one)];
      console.log(
        `parallel ${parallel} vs 1 run at a time, model-only interleaved frame by frame (median of ${first.length}): ${par.toFixed(0)} vs ${one.toFixed(0)} ms/frame = ${(one / par).toFixed(2)}x; end-to-end (not interleaved) ${(rate(e2e.m) / rate(e2eSerial.m)).toFixed(2)}x`,
      );
      console.log(`ratio end-to-end (policy) / best model-only = ${(rate(e2e.m) / best).toFixed(2)}   (goal >= 0.9); policy / all cores forced = ${(rate(e2e.m) / rate(e2eAll.m)).toFixed(2)}`);
      console.log(
        `model stage in the job: running ${pct(e2e.busy.transform)}, starved ${pct(e2e.busy.transformStarved)}, blocked by the encoder ${pct(e2e.busy.transformBlocked)}; ` +
          `${(e2e.busy.transform / span.count).toFixed(0)} ms/frame vs ${(asJob.ms / asJob.frames).toFixed(0)} alone`,
      );
      console.log(`stages (policy job): ${stageWaits(e2e.busy, span.count)}`);
    };
    try {
      console.log(
        `thread policy on ${cores} cores: ${parallel} run(s) at once; a still ${stillThreads}, this job ${jobThreads} (side work: ${Object.entries(work)
          .filter(([, v]) => v)
          .map(([k]) => k)
          .join(', ')}); load average before: ${load()}`,
      );
      if (CONDITIONS.includes('found')) await condition('as found (no synthetic load)');
      if (CONDITIONS.includes('busy')) {
        const busy = startBusyLoad(BUSY_LOOPS);
        try {
          await condition(`with ${BUSY_LOOPS} busy-loop processes started by the bench (pids ${busy.pids.join(', ')})`);
        } finally {
          await busy.stop();
        }
      }
    } finally {
      await Promise.all([allCores.dispose(), oneRun.dispose()]);
    }
  } finally {
    await matting.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
