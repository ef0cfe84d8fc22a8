// Robust Video Matting: speed of the converted model on onnxruntime against TensorFlow.js (wasm)
// running the same TFJS graph, at 640x360 and 1080p, in the same process; and temporal stability
// on a static generated scene (sensor noise only, nothing moves), where any change of alpha from
// one frame to the next is flicker: rvm (recurrent, no plate), plate (the built-in model) and
// plate+rvm (rvm with plate assist), with the SAD against the known alpha beside it.
//   ORT:  the engine's rvm session (uint8 frame in, uint8 alpha + RGBA out, state carried);
//   tfjs: GraphModel.executeAsync on float tensors, outputs read back to JS (its wasm backend runs
//         one thread in Node; ORT is shown with 1 thread too for a like-for-like figure).
// Skipped with a message when models/rvm.onnx has not been built (npm run models:rvm).
// BENCH_RVM_PART=speed|stability runs one half.
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { autoDownsampleRatio, openRvmSession } from '../../src/engine/matting/rvm/session.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import type { WrapOptions } from '../../src/engine/matting/rvm/wrap.js';
import { parseModelJson } from '../../src/engine/models/tfjs-onnx/model-json.js';
import { obtainRvmSource } from '../../src/engine/models/rvm/package.js';
import { sad } from '../../src/eval/metrics.js';
import { makeScene } from '../../src/eval/synthetic.js';
import { RVM_CACHE_DIR, personFrame, personScene } from '../../test/support/rvm.js';
import { loadTfjsGraph, runTfjs } from '../../test/support/tfjs-reference.js';

const ORT_RUNS = Number(process.env.BENCH_RVM_RUNS ?? 8);
const TFJS_RUNS = Number(process.env.BENCH_RVM_TFJS_RUNS ?? 3);
const STABILITY_FRAMES = Number(process.env.BENCH_RVM_FRAMES ?? 16);
/** RVM's state starts at zero: its first frames converge, so flicker is also shown after them. */
const WARM_UP_FRAMES = 4;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function timed(runs: number, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: first run plans memory / compiles
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  return median(times);
}

/** Median ms of each function, run in turn (after one warm-up each). */
async function timedPair(runs: number, fns: readonly (() => Promise<unknown>)[]): Promise<number[]> {
  for (const fn of fns) await fn();
  const times = fns.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, fn] of fns.entries()) {
      const t0 = performance.now();
      await fn();
      times[k]!.push(performance.now() - t0);
    }
  }
  return times.map(median);
}

/** An rvm session opened with CLEANPLATE_THREADS set for the duration of the open. */
async function openRvm(registry: ModelRegistry, threads: number | undefined, settings: Record<string, unknown> = {}, wrap?: WrapOptions): Promise<MattingSession> {
  const entry = registry.entry('rvm')!;
  const before = process.env.CLEANPLATE_THREADS;
  if (threads !== undefined) process.env.CLEANPLATE_THREADS = String(threads);
  try {
    return await openRvmSession({ ...entry, settings: { ...entry.settings, ...settings } }, { modelsDir: registry.modelsDir }, ['cpu'], wrap);
  } finally {
    if (before === undefined) delete process.env.CLEANPLATE_THREADS;
    else process.env.CLEANPLATE_THREADS = before;
  }
}

async function speed(registry: ModelRegistry): Promise<void> {
  const source = await obtainRvmSource({ cacheDir: RVM_CACHE_DIR, log: (l) => console.log(l) });
  const model = parseModelJson(source.json.toString('utf8'));
  const tfModel = await loadTfjsGraph(model, source.bin);
  const outputs = ['fgr', 'pha', 'r1o', 'r2o', 'r3o', 'r4o'].map((k) => model.signature!.outputs![k]!.name);
  const ort = await openRvm(registry, undefined);
  const ort1 = await openRvm(registry, 1);
  const asConverted = await openRvm(registry, 1, {}, { fastTail: false });
  console.log(
    `speed, CPU: ORT ${cpuThreads()} threads (and 1), tfjs-wasm 1 thread; median ms/frame (ORT ${ORT_RUNS} runs, tfjs ${TFJS_RUNS}), alpha + foreground; load ${os.loadavg()[0]!.toFixed(1)}`,
  );
  console.log('  "converted": the graph as models:rvm converts it, full-resolution stage not rewritten at load (rvm/fast-tail.ts), 1 thread');
  console.log('size        ratio   ORT ms   fps   ORT-1t ms  converted-1t  gain   tfjs ms   fps    tfjs/ORT  tfjs/ORT-1t');
  try {
    for (const [W, H] of [
      [640, 360],
      [1920, 1080],
    ] as const) {
      const frame = personFrame(W, H);
      const ratio = autoDownsampleRatio(W, H);
      const seqA = new FrameSequence();
      const seqB = new FrameSequence();
      const seqC = new FrameSequence();
      const ortMs = await timed(ORT_RUNS, () => ort.run(frame, undefined, { sequence: seqA }));
      // The rewritten and the converted graph alternate, so both see the same load.
      const [ort1Ms = NaN, convertedMs = NaN] = await timedPair(Math.max(2, Math.floor(ORT_RUNS / 2)), [
        () => ort1.run(frame, undefined, { sequence: seqB }),
        () => asConverted.run(frame, undefined, { sequence: seqC }),
      ]);
      const src = Float32Array.from(frame.data, (v) => v / 255);
      let state = ['r1i', 'r2i', 'r3i', 'r4i'].map(() => ({ data: new Float32Array(1) as Float32Array<ArrayBufferLike>, shape: [1, 1, 1, 1] }));
      const tfMs = await timed(TFJS_RUNS, async () => {
        const feeds: Record<string, { data: Float32Array<ArrayBufferLike>; shape: number[] }> = {
          src: { data: src, shape: [1, H, W, 3] },
          downsample_ratio: { data: Float32Array.of(ratio), shape: [] },
        };
        state.forEach((s, i) => (feeds[`r${i + 1}i`] = s));
        state = (await runTfjs(tfModel, feeds, outputs)).slice(2);
      });
      const fps = (ms: number) => (1000 / ms).toFixed(2).padStart(5);
      console.log(
        `${`${W}x${H}`.padEnd(11)} ${ratio.toFixed(3)}  ${ortMs.toFixed(0).padStart(7)} ${fps(ortMs)}  ${ort1Ms.toFixed(0).padStart(10)}  ${convertedMs.toFixed(0).padStart(12)}  ${(convertedMs / ort1Ms).toFixed(2)}x  ${tfMs.toFixed(0).padStart(8)} ${fps(tfMs)}  ${(tfMs / ortMs).toFixed(1).padStart(8)}x ${(tfMs / ort1Ms).toFixed(1).padStart(10)}x`,
      );
    }
  } finally {
    tfModel.dispose();
    await ort.dispose();
    await ort1.dispose();
    await asConverted.dispose();
  }
}

interface StaticCapture {
  readonly name: string;
  readonly frames: Frame[];
  readonly plate: Frame;
  readonly truth: Float32Array;
}

/**
 * Mean |alpha(t) - alpha(t-1)| over static scenes (alpha units, 0..1: flicker), and the mean SAD
 * per frame against the known alpha (thousands of pixels, the paper's unit: accuracy).
 */
async function stability(registry: ModelRegistry): Promise<void> {
  const W = 640;
  const H = 360;
  const noise = 3;
  const n = STABILITY_FRAMES;
  const synthetic = Array.from({ length: n }, (_, t) => makeScene('static', { width: W, height: H, noise, seed: 100 + t }));
  const figure = Array.from({ length: n }, (_, t) => personScene(W, H, noise, 200 + t));
  const captures: StaticCapture[] = [
    { name: 'figure (test/support/rvm.ts: head, hair, torso over a room)', frames: figure.map((s) => s.frame), plate: figure[0]!.plate, truth: figure[0]!.alpha },
    { name: 'synthetic (src/eval/synthetic.ts: abstract blob subject, not a person)', frames: synthetic.map((s) => s.frame), plate: synthetic[0]!.plate, truth: synthetic[0]!.alpha },
  ];
  const rvm = await openRvm(registry, undefined);
  const assisted = await openRvm(registry, undefined, { plateAssist: true });
  const plateModel = await registry.open('plate');
  console.log(`\ntemporal stability: static ${W}x${H} scenes, sensor noise ${noise} levels, ${n} frames, one plate per scene`);
  try {
    for (const capture of captures) {
      console.log(`${capture.name}`);
      console.log(`  model       mean |a(t)-a(t-1)|   after frame ${WARM_UP_FRAMES}   max per-frame   SAD/frame (thousands)`);
      for (const [name, session, withPlate] of [
        ['rvm', rvm, false],
        ['plate', plateModel, true],
        ['plate+rvm', assisted, true],
      ] as const) {
        const sequence = new FrameSequence();
        let previous: Uint8Array | undefined;
        const flicker: number[] = [];
        const sads: number[] = [];
        for (const frame of capture.frames) {
          const { alpha } = await session.run(frame, withPlate ? capture.plate : undefined, { foreground: false, sequence });
          sads.push(sad(alpha, capture.truth));
          if (previous) {
            let sum = 0;
            for (let i = 0; i < alpha.data.length; i++) sum += Math.abs(alpha.data[i]! - previous[i]!);
            flicker.push(sum / alpha.data.length / 255);
          }
          previous = Uint8Array.from(alpha.data);
        }
        const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
        const settled = mean(flicker.slice(WARM_UP_FRAMES - 1));
        console.log(
          `  ${name.padEnd(11)} ${mean(flicker).toExponential(2).padStart(18)}   ${settled.toExponential(2).padStart(13)}   ${Math.max(...flicker)
            .toExponential(2)
            .padStart(13)}   ${mean(sads).toFixed(2).padStart(9)}`,
        );
      }
    }
  } finally {
    await rvm.dispose();
    await assisted.dispose();
    await plateModel.dispose();
  }
}

export default async function rvmBench(): Promise<void> {
  const file = path.join(defaultModelsDir, 'rvm.onnx');
  if (!existsSync(file)) {
    console.log('rvm: skipped: models/rvm.onnx is not there; run "npm run models:rvm" first (converts RVM on this machine)');
    return;
  }
  const registry = await ModelRegistry.load();
  if (process.env.BENCH_RVM_PART !== 'stability') await speed(registry);
  if (process.env.BENCH_RVM_PART !== 'speed') await stability(registry);
}
