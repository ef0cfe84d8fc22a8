// Plate alignment (src/engine/align): its cost per frame at 720p and 1080p on hand-held pairs of
// known motion (estimate, exposure fit, warp, and the static check that auto runs on every
// frame); clip fps with align auto vs off on a static clip (same run, interleaved); and, when the
// shared real capture pairs exist, how much background the plate model calls subject with align
// off and on, in frame regions the person never reaches.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { PlateAligner } from '../../src/engine/align/aligner.js';
import { estimateHomography } from '../../src/engine/align/estimate.js';
import { maxDisplacement, type Homography } from '../../src/engine/align/homography.js';
import { openCv } from '../../src/engine/align/opencv.js';
import { fitPhotometric } from '../../src/engine/align/photometric.js';
import { buildProbe, checkStatic } from '../../src/engine/align/static-check.js';
import { renderAlignedPlate } from '../../src/engine/align/warp.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { Frame } from '../../src/engine/frame.js';
import { locateMediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { encodeRedBlockClip } from '../red-block-clip.js';
import { planClipJob, runClipJob } from '../../src/engine/services/clip-job.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { makeAlignPair } from '../../src/eval/align-pairs.js';
import { startBusyLoad } from '../busy-load.js';
import { stageWaits } from '../stage-waits.js';

const PAIRS_DIR = process.env.CLEANPLATE_CAPTURE_PAIRS ?? path.resolve('..', 'shared', 'data', 'capture-pairs');
const RUNS = 7;
const ROUNDS = Number(process.env.BENCH_ALIGN_ROUNDS ?? 5);
/** BENCH_ALIGN_LOAD=found|busy runs one of the hand-held conditions (default both). */
const HAND_HELD_CONDITIONS = (process.env.BENCH_ALIGN_LOAD ?? 'found,busy').split(',') as ('found' | 'busy')[];
const BUSY_LOOPS = 2;

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const ms = (v: number): string => v.toFixed(1).padStart(7);

async function timedRuns(runs: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  const t: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    t.push(performance.now() - t0);
  }
  return median(t);
}

function handHeld(width: number, height: number): Homography {
  // About 20 px of shift with a small turn and zoom, like the real hand-held pairs.
  const a = (0.8 * Math.PI) / 180;
  const s = 1.01;
  const c = Math.cos(a) * s;
  const si = Math.sin(a) * s;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  return [c, -si, cx - c * cx + si * cy + 18 * (width / 1920), si, c, cy - si * cx - c * cy - 11 * (width / 1920), 0, 0, 1];
}

async function costPerFrame(): Promise<void> {
  const t0 = performance.now();
  await openCv();
  console.log(`OpenCV (wasm) load: ${(performance.now() - t0).toFixed(0)} ms, once per process`);
  console.log(
    '\n| size | estimate (features+match+fit+refine) | of which frame features | match | fit+refine | exposure fit | warp+fill | align on, whole frame | next frame of a shot (tracked from the last warp) | static check (auto, nothing moved) | plate features (once per plate) | warp error px |',
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const [label, W, H] of [
    ['720p', 1280, 720],
    ['1080p', 1920, 1080],
  ] as const) {
    const warp = handHeld(W, H);
    const pair = makeAlignPair({ width: W, height: H, warp, gain: [1.04, 1.03, 1.02], noise: 2 });
    const first = await estimateHomography(pair.plate, pair.frame); // plate features cached from here on
    if (!first.ok) throw new Error(`${label}: ${first.reason}`);
    const parts: { f: number[]; m: number[]; r: number[] } = { f: [], m: [], r: [] };
    const estimate = await timedRuns(RUNS, async () => {
      const e = await estimateHomography(pair.plate, pair.frame);
      parts.f.push(e.timings.frameFeaturesMs);
      parts.m.push(e.timings.matchMs);
      parts.r.push(e.timings.fitMs);
    });
    // The next frame of a shot: tracked from the previous warp (here the truth moved by 2 px).
    const prior: Homography = [...first.warp.slice(0, 2), first.warp[2] - 2, ...first.warp.slice(3, 5), first.warp[5] + 1.5, ...first.warp.slice(6)] as unknown as Homography;
    let trackedOk = true;
    const tracked = await timedRuns(RUNS, async () => {
      const e = await estimateHomography(pair.plate, pair.frame, { prior });
      trackedOk &&= e.ok && e.tracked && maxDisplacement(e.warp, warp, W, H) <= 0.5;
    });
    const photometric = await timedRuns(RUNS, () => fitPhotometric(pair.plate, pair.frame, first.warp));
    const fit = fitPhotometric(pair.plate, pair.frame, first.warp);
    const render = await timedRuns(RUNS, () => renderAlignedPlate(pair.plate, pair.frame, first.warp, fit.ok ? fit.photometric : undefined));
    const whole = await timedRuns(RUNS, () => new PlateAligner(pair.plate, { mode: 'on' }).plateFor(pair.frame));
    const still = makeAlignPair({ width: W, height: H, noise: 2 });
    const probe = buildProbe(still.plate);
    await timedRuns(RUNS * 3, () => checkStatic(probe, still.frame)); // warm (a clip runs it every frame)
    const check = await timedRuns(RUNS * 3, () => checkStatic(probe, still.frame));
    const error = maxDisplacement(first.warp, warp, W, H);
    console.log(
      `| ${label} | ${ms(estimate)} | ${ms(median(parts.f))} | ${ms(median(parts.m))} | ${ms(median(parts.r))} | ${ms(photometric)} | ${ms(render)} | ${ms(whole)} | ${ms(tracked)}${trackedOk ? '' : ' (fell back to matching)'} | ${ms(check)} | ${ms(first.timings.plateFeaturesMs)} | ${error.toFixed(2)} |`,
    );
  }
  console.log(`(ms, median of ${RUNS} runs; generated pairs with an ~21 px hand-held shift, 0.8° turn, 1% zoom and 2-4% exposure change; machine load ${os.loadavg()[0]!.toFixed(1)})`);
}

async function clipAutoVsOff(): Promise<void> {
  const W = 1920;
  const H = 1080;
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-align-'));
  const tools = await locateMediaTools();
  const registry = await ModelRegistry.load();
  const matting = new MattingService(registry);
  try {
    // A tripod shot: a textured plate, and a block moving over it (H.264, so frames carry codec noise).
    const platePath = path.join(dir, 'plate.png');
    const scene = makeAlignPair({ width: W, height: H, subject: false, noise: 1 });
    await sharp(scene.plate.data, { raw: { width: W, height: H, channels: 3 } })
      .png()
      .toFile(platePath);
    const clip = path.join(dir, 'tripod.mp4');
    await encodeRedBlockClip(tools.ffmpeg.path, { plate: platePath, out: clip, rate: '30', seconds: 2, filter: `[0][1]overlay=x='mod(t*400,${W - 420})':y=300:shortest=1` });
    const plan = (align: 'auto' | 'off') =>
      planClipJob({ tools, registry }, { mediaPath: clip, background: { imagePath: platePath }, outputs: ['matte'], outputDir: path.join(dir, `out-${align}`), align });
    const plans = { off: await plan('off'), auto: await plan('auto') };
    await runClipJob(tools, matting, plans.off); // warm-up: model compiled for the size
    const fps: Record<'off' | 'auto', number[]> = { off: [], auto: [] };
    let alignMs = 0;
    let autoWallMs = 0;
    let report = '';
    for (let round = 0; round < ROUNDS; round++) {
      for (const mode of round % 2 === 0 ? (['off', 'auto'] as const) : (['auto', 'off'] as const)) {
        const t0 = performance.now();
        const result = await runClipJob(tools, matting, plans[mode]);
        const wall = performance.now() - t0;
        fps[mode].push((plans[mode].span.count * 1000) / wall);
        if (mode === 'auto') {
          alignMs += result.align?.ms ?? 0;
          autoWallMs += wall;
          report = JSON.stringify(result.align);
        }
      }
    }
    const best = (xs: number[]): number => Math.max(...xs);
    const frames = plans.off.span.count;
    console.log(`\nclip (1080p tripod, ${frames} frames, matte output, plate model), ${ROUNDS} interleaved runs each (machine load ${os.loadavg()[0]!.toFixed(1)}):`);
    console.log(`| align | fps median | fps best | runs |\n|---|---|---|---|`);
    for (const mode of ['off', 'auto'] as const) {
      console.log(`| ${mode} | ${median(fps[mode]).toFixed(2)} | ${best(fps[mode]).toFixed(2)} | ${fps[mode].map((v) => v.toFixed(2)).join(', ')} |`);
    }
    console.log(`auto / off: median ${(median(fps.auto) / median(fps.off)).toFixed(3)}, best ${(best(fps.auto) / best(fps.off)).toFixed(3)} (goal >= 0.95)`);
    console.log(
      `time auto spent aligning: ${(alignMs / (ROUNDS * frames)).toFixed(2)} ms/frame = ${((100 * alignMs) / autoWallMs).toFixed(2)}% of the job's wall time (the overhead itself, free of the run-to-run noise above); last report: ${report}`,
    );

    // A hand-held shot: the camera wanders +-20 px around where the plate was taken (a window
    // moving over a larger scene), so every frame needs its own warp.
    const big = makeAlignPair({ width: W + 200, height: H + 120, subject: false, noise: 1, seed: 9 });
    const bigPath = path.join(dir, 'scene.png');
    await sharp(big.plate.data, { raw: { width: W + 200, height: H + 120, channels: 3 } })
      .png()
      .toFile(bigPath);
    const handPlate = path.join(dir, 'hand-plate.png');
    await sharp(bigPath).extract({ left: 100, top: 60, width: W, height: H }).png().toFile(handPlate);
    const handClip = path.join(dir, 'handheld.mp4');
    await encodeRedBlockClip(tools.ffmpeg.path, {
      plate: bigPath,
      out: handClip,
      rate: '30',
      seconds: 2,
      filter: `[0][1]overlay=x='300+mod(t*300,${W - 720})':y=360:shortest=1,crop=${W}:${H}:x='100+20*sin(2*PI*t*0.7)':y='60+12*sin(2*PI*t*0.5+1)'`,
    });
    const handPlan = (align: 'auto' | 'off') =>
      planClipJob({ tools, registry }, { mediaPath: handClip, background: { imagePath: handPlate }, outputs: ['matte'], outputDir: path.join(dir, `hand-${align}`), align });
    const hand = { off: await handPlan('off'), auto: await handPlan('auto') };
    const handFrames = hand.off.span.count;
    console.log(`\nhand-held clip (1080p, camera wandering +-20 px, ${handFrames} frames, model ${hand.off.modelId}), 2 interleaved runs each; alignment runs in the align worker beside the model's:`);
    console.log('| condition | align off fps | align auto fps | auto / off (mean) | load after |\n|---|---|---|---|---|');
    let handReport = '';
    let stages = '';
    for (const condition of HAND_HELD_CONDITIONS) {
      const busy = condition === 'busy' ? startBusyLoad(BUSY_LOOPS) : undefined;
      try {
        const handFps: Record<'off' | 'auto', number[]> = { off: [], auto: [] };
        for (const mode of ['off', 'auto', 'auto', 'off'] as const) {
          const t0 = performance.now();
          const result = await runClipJob(tools, matting, hand[mode]);
          handFps[mode].push((handFrames * 1000) / (performance.now() - t0));
          if (mode === 'auto') {
            handReport = JSON.stringify(result.align);
            stages = stageWaits(result.times, handFrames);
          }
        }
        const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
        const label = condition === 'busy' ? `${BUSY_LOOPS} busy loops` : 'as found';
        console.log(
          `| ${label} | ${handFps.off.map((v) => v.toFixed(2)).join(', ')} | ${handFps.auto.map((v) => v.toFixed(2)).join(', ')} | ${(mean(handFps.auto) / mean(handFps.off)).toFixed(2)} (goal >= 0.8) | ${os.loadavg()[0]!.toFixed(1)} |`,
        );
        console.log(`  last auto run's stages: ${stages}`);
      } finally {
        await busy?.stop();
      }
    }
    console.log(`auto's report: ${handReport}`);
  } finally {
    await matting.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}

async function loadRgb(file: string): Promise<Frame> {
  const { data, info } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width: info.width, height: info.height, channels: 3 };
}

async function realPairs(): Promise<void> {
  const plateFile = path.join(PAIRS_DIR, '0001_back.png');
  if (!existsSync(plateFile)) {
    console.log(`\nreal capture pairs: skipped, ${PAIRS_DIR} not found (set CLEANPLATE_CAPTURE_PAIRS)`);
    return;
  }
  const registry = await ModelRegistry.load();
  const session = await registry.open('plate');
  try {
    const plate = await loadRgb(plateFile);
    // The person stays between about 25% and 62% of the width in every frame (looked at all
    // four): the left and right fifths are background in all of them.
    const inBorder = (x: number): boolean => x < 0.2 * plate.width || x >= 0.8 * plate.width;
    console.log('\nreal hand-held capture pairs, plate model: share of pixels with alpha > 0.5 in the left and right 20% of the frame (the person never goes there)');
    console.log('| frame | align off | align on | shift found px | uncovered border | align ms |\n|---|---|---|---|---|---|');
    for (const id of ['0001', '0500', '1000', '1500']) {
      const frame = await loadRgb(path.join(PAIRS_DIR, `${id}_img.png`));
      const aligner = new PlateAligner(plate, { mode: 'on' });
      const aligned = await aligner.plateFor(frame);
      const report = aligner.report();
      const share = async (p: Frame): Promise<number> => {
        const { alpha } = await session.run(frame, p, { foreground: false });
        let on = 0;
        let n = 0;
        for (let y = 0; y < alpha.height; y++) {
          for (let x = 0; x < alpha.width; x++) {
            if (!inBorder(x)) continue;
            n++;
            if (alpha.data[y * alpha.width + x]! > 127) on++;
          }
        }
        return on / n;
      };
      const [off, on] = [await share(plate), await share(aligned)];
      console.log(`| ${id} | ${(100 * off).toFixed(2)}% | ${(100 * on).toFixed(2)}% | ${report.meanShiftPx} | ${(100 * report.maxUncoveredFraction).toFixed(1)}% | ${report.ms} |`);
    }
  } finally {
    await session.dispose();
  }
}

export default async function alignBench(): Promise<void> {
  await costPerFrame();
  await clipAutoVsOff();
  await realPairs();
}
