// The fused model's cost at 1080p against rvm alone, measured interleaved in one run (the target:
// fused <= 1.25x rvm), with its parts beside: the plate model, RVM at the fused model's smaller
// inner size, and what the fusion itself adds; and in a clip, where the prior runs every
// priorEvery frames while the subject holds still and on every frame while it walks. Frames are
// generated (a person-like figure over a textured wall, its plate the empty wall).
// BENCH_FUSED_4K=1 adds 3840x2160 rows. BENCH_FUSED_RUNS sets the runs per model (default 6), BENCH_FUSED_PRIORS the extra prior sizes (default 256). Skipped with a message when models/rvm.onnx
// has not been built (npm run models:rvm).
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import { inferenceThreads, NO_SIDE_WORK, parallelRuns, withThreadBudget } from '../../src/engine/matting/thread-policy.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { autoDownsampleRatio, openRvmSession } from '../../src/engine/matting/rvm/session.js';
import { fusedSettings, openFusedSession } from '../../src/engine/matting/fused/session.js';
import { FrameSequence, type MattingSession, type RunOptions } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { personFrame } from '../../test/support/rvm.js';
import { withEnv } from '../with-env.js';

const RUNS = Number(process.env.BENCH_FUSED_RUNS ?? 6);
const W = 1920;
const H = 1080;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

interface Row {
  readonly label: string;
  readonly session: MattingSession;
  readonly plate?: Frame;
  /** The frame of run i (0 = warm-up); default: the 1080p frame. */
  readonly frame?: (i: number) => Frame;
  readonly options: () => RunOptions;
  readonly times: number[];
  readonly cpu: number[];
  /** Kept for the walking clip, to compare the prior's cadence with every frame. */
  readonly alphas?: Uint8Array[];
  /** Runs with CLEANPLATE_PARALLEL=1 (the graphs a session compiles per frame size open in run). */
  readonly oneRun?: boolean;
}

/** As the engine runs a still or a clip's model: inside the thread policy's budget (1 thread on 2 cores). */
export default function fusedBench(): Promise<void> {
  return withThreadBudget(inferenceThreads(NO_SIDE_WORK), bench);
}

async function bench(): Promise<void> {
  if (!existsSync(path.join(defaultModelsDir, 'rvm.onnx'))) {
    console.log('fused: skipped: models/rvm.onnx is not there; run "npm run models:rvm" first (converts RVM on this machine)');
    return;
  }
  const registry = await ModelRegistry.load();
  const fusedEntry = registry.entry('fused');
  if (!fusedEntry) {
    console.log('fused: skipped: no "fused" entry in models/manifest.json');
    return;
  }
  const settings = fusedSettings(fusedEntry);
  const side = settings.priorFrameSide > 0 ? Math.min(settings.priorFrameSide, W) : W;
  const small = personFrame(Math.round((W * side) / W), Math.round((H * side) / W));
  const priorRatio = autoDownsampleRatio(small.width, small.height, settings.priorLongSide);
  const frame = personFrame(W, H);
  const plate = personFrame(W, H, 10_000);
  const [rvm, fused, plateModel] = await Promise.all([registry.open('rvm'), registry.open('fused'), registry.open('plate')]);
  const open = (extra: Record<string, unknown>) => openFusedSession({ ...fusedEntry, settings: { ...fusedEntry.settings, ...extra } }, { modelsDir: registry.modelsDir });
  // Every frame's prior: what a still costs, and a clip whose subject never stops moving.
  const everyFrame = await open({ priorEvery: 1 });
  // The temporal stabiliser's cost: the still-subject row without it.
  const noTemporal = await open({ temporal: { rest: 1 } });
  // The learned prior's inner size is the main lever: the default and two smaller ones beside it.
  const priorSides = (process.env.BENCH_FUSED_PRIORS ?? '256')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  // The same, opened with one inference run at a time (CLEANPLATE_PARALLEL=1): the prior and the
  // plate graph one after the other in one worker, against parallelRuns() (2 on 2 cores).
  const parallel = parallelRuns();
  const [everyFrameSerial, fusedSerial] = await withEnv('CLEANPLATE_PARALLEL', '1', () => Promise.all([open({ priorEvery: 1 }), open({})]));
  const variants = await Promise.all(priorSides.map((side) => open({ priorLongSide: side, priorEvery: 1 })));
  // A subject walking 6 px a frame: the prior runs again on every frame (motion check).
  const walking = Array.from({ length: RUNS + 1 }, (_, i) => personFrame(W, H, 6 * i));
  // Clips carry a sequence; foreground on, as a clip job's ProRes 4444 output asks.
  const seq = () => {
    const s = new FrameSequence();
    return () => ({ sequence: s, foreground: true });
  };
  // The rvm graph as models:rvm converts it, without the load-time rewrite (rvm/fast-tail.ts).
  const rvmConverted = await openRvmSession(registry.entry('rvm')!, { modelsDir: registry.modelsDir }, undefined, { fastTail: false });
  const rows: Row[] = [
    { label: 'rvm (alone, 512 px inner)', session: rvm, options: seq(), times: [], cpu: [] },
    { label: 'rvm, graph as converted', session: rvmConverted, options: seq(), times: [], cpu: [] },
    { label: 'fused, prior every frame', session: everyFrame, plate, options: seq(), times: [], cpu: [] },
    { label: `fused, still subject (prior every ${settings.priorEvery})`, session: fused, plate, options: seq(), times: [], cpu: [] },
    { label: 'fused, prior every frame, 1 run at once', session: everyFrameSerial, plate, options: seq(), times: [], cpu: [], oneRun: true },
    { label: 'fused, still subject, 1 run at once', session: fusedSerial, plate, options: seq(), times: [], cpu: [], oneRun: true },
    { label: 'fused, walking subject', session: fused, plate, frame: (i) => walking[i]!, options: seq(), times: [], cpu: [], alphas: [] },
    { label: 'fused, walking, prior every frame', session: everyFrame, plate, frame: (i) => walking[i]!, options: seq(), times: [], cpu: [], alphas: [] },
    { label: 'plate (part of fused)', session: plateModel, plate, options: () => ({ foreground: false }), times: [], cpu: [] },
    { label: 'fused, still subject, no temporal filter', session: noTemporal, plate, options: seq(), times: [], cpu: [] },
    ...variants.map((session, i) => ({ label: `fused, prior at ${priorSides[i]} px`, session, plate, options: seq(), times: [] as number[], cpu: [] as number[] })),
    {
      label: `rvm, ${small.width} px frame, ${Math.round(priorRatio * small.width)} px inner (part of fused)`,
      session: rvm,
      frame: () => small,
      options: (() => {
        const s = new FrameSequence();
        return () => ({ sequence: s, foreground: false, downsampleRatio: priorRatio });
      })(),
      times: [],
      cpu: [],
    },
  ];
  const [walkingRow, walkingEvery, plateRow, priorRow] = [rows[6]!, rows[7]!, rows[8]!, rows.at(-1)!];
  if (process.env.BENCH_FUSED_4K === '1') {
    const frame4k = personFrame(3840, 2160);
    const plate4k = personFrame(3840, 2160, 10_000);
    rows.push(
      { label: 'rvm 4K', session: rvm, frame: () => frame4k, options: seq(), times: [], cpu: [] },
      { label: 'rvm 4K, graph as converted', session: rvmConverted, frame: () => frame4k, options: seq(), times: [], cpu: [] },
      { label: 'fused 4K, prior every frame', session: everyFrame, frame: () => frame4k, plate: plate4k, options: seq(), times: [], cpu: [] },
      { label: 'fused 4K, still subject', session: fused, frame: () => frame4k, plate: plate4k, options: seq(), times: [], cpu: [] },
      { label: 'plate 4K', session: plateModel, frame: () => frame4k, plate: plate4k, options: () => ({ foreground: false }), times: [], cpu: [] },
    );
  }
  const frameOf = (r: Row, i: number) => r.frame?.(i) ?? frame;
  const run = (r: Row, i: number) => {
    const go = () => r.session.run(frameOf(r, i), r.plate, r.options());
    return r.oneRun ? withEnv('CLEANPLATE_PARALLEL', '1', go) : go();
  };
  try {
    for (const r of rows) await run(r, 0); // warm-up: compile, plan memory
    for (let i = 0; i < RUNS; i++) {
      // Each round starts at another row: the first of a round pays for what ran before it.
      for (let j = 0; j < rows.length; j++) {
        const r = rows[(i + j) % rows.length]!;
        const c0 = process.cpuUsage();
        const t0 = performance.now();
        const out = await run(r, i + 1);
        r.times.push(performance.now() - t0);
        r.alphas?.push(out.alpha.data);
        const c = process.cpuUsage(c0);
        r.cpu.push((c.user + c.system) / 1000);
      }
    }
  } finally {
    await Promise.all([
      rvm.dispose(),
      rvmConverted.dispose(),
      fused.dispose(),
      everyFrame.dispose(),
      everyFrameSerial.dispose(),
      fusedSerial.dispose(),
      noTemporal.dispose(),
      plateModel.dispose(),
      ...variants.map((v) => v.dispose()),
    ]);
  }
  const rvmMs = median(rows[0]!.times);
  const fusedMs = median(rows[2]!.times);
  console.log(
    `fused vs rvm at ${W}x${H}, alpha + foreground, CPU ${cpuThreads()} threads, median of ${RUNS} interleaved runs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log("  (CPU ms: the process's CPU time per frame, less sensitive to a loaded machine than the wall time)");
  console.log('model                                    ms/frame    fps   x rvm   CPU ms  x rvm');
  const rvmCpu = median(rows[0]!.cpu);
  for (const r of rows) {
    const ms = median(r.times);
    const cpu = median(r.cpu);
    console.log(
      `${r.label.padEnd(40)} ${ms.toFixed(0).padStart(8)} ${(1000 / ms).toFixed(1).padStart(6)}  ${(ms / rvmMs).toFixed(2).padStart(6)}  ${cpu.toFixed(0).padStart(7)}  ${(cpu / rvmCpu).toFixed(2).padStart(5)}`,
    );
  }
  const parts = median(plateRow.times) + median(priorRow.times);
  const ratio = (a: Row, b: Row): string =>
    `${(median(b.times) / median(a.times)).toFixed(2)}x wall (${median(b.times).toFixed(0)} -> ${median(a.times).toFixed(0)} ms), CPU ${(median(a.cpu) / median(b.cpu)).toFixed(2)}x`;
  console.log(`parallel ${parallel} vs 1 run at once: prior every frame ${ratio(rows[2]!, rows[4]!)}; still subject ${ratio(rows[3]!, rows[5]!)}`);
  console.log(`fused - (its plate and rvm parts run one after the other): ${(fusedMs - parts).toFixed(0)} ms (fusion graph and foreground, less what running the two at once saves)`);
  // What reusing the prior costs in quality on the walking clip: alpha against every frame's prior.
  const [cadence, every] = [walkingRow.alphas!, walkingEvery.alphas!];
  let sum = 0;
  let off = 0;
  for (const [f, a] of cadence.entries()) {
    for (let i = 0; i < a.length; i++) {
      const d = Math.abs(a[i]! - every[f]![i]!);
      sum += d;
      if (d > 127) off++;
    }
  }
  const n = cadence.length * cadence[0]!.length;
  console.log(
    `walking clip, prior every ${settings.priorEvery} (motion share ${settings.priorMotion}) vs every frame: mean |alpha difference| ${(sum / n / 255).toExponential(2)}, pixels off by more than half ${((off / n) * 100).toFixed(3)}%`,
  );
  console.log(
    `target fused (prior every frame) <= 1.25x rvm: ${fusedMs / rvmMs <= 1.25 ? 'met' : 'NOT met'} (${(fusedMs / rvmMs).toFixed(2)}x wall, ${(median(rows[2]!.cpu) / rvmCpu).toFixed(2)}x CPU)`,
  );
}
