// The fused model's cost at 1080p against rvm alone, measured interleaved in one run (the target:
// fused <= 1.25x rvm), with its parts beside: the plate model, RVM at the fused model's smaller
// inner size, and what the fusion itself adds. Frames are generated (a person-like figure over a
// textured wall, its plate the empty wall): cost does not depend on content here.
// BENCH_FUSED_RUNS sets the runs per model (default 6), BENCH_FUSED_PRIORS the extra prior sizes (default 256). Skipped with a message when models/rvm.onnx
// has not been built (npm run models:rvm).
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { autoDownsampleRatio } from '../../src/engine/matting/rvm/session.js';
import { fusedSettings, openFusedSession } from '../../src/engine/matting/fused/session.js';
import { FrameSequence, type MattingSession, type RunOptions } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { personFrame } from '../../test/support/rvm.js';

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
  /** Default: the 1080p frame. */
  readonly frame?: Frame;
  readonly options: () => RunOptions;
  readonly times: number[];
}

export default async function fusedBench(): Promise<void> {
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
  // The learned prior's inner size is the main lever: the default and two smaller ones beside it.
  const priorSides = (process.env.BENCH_FUSED_PRIORS ?? '256')
    .split(',')
    .map(Number)
    .filter((n) => n > 0);
  const variants = await Promise.all(priorSides.map((side) => openFusedSession({ ...fusedEntry, settings: { ...fusedEntry.settings, priorLongSide: side } }, { modelsDir: registry.modelsDir })));
  // Clips carry a sequence; foreground on, as a clip job's ProRes 4444 output asks.
  const seq = () => {
    const s = new FrameSequence();
    return () => ({ sequence: s, foreground: true });
  };
  const rows: Row[] = [
    { label: 'rvm (alone, 512 px inner)', session: rvm, options: seq(), times: [] },
    { label: 'fused', session: fused, plate, options: seq(), times: [] },
    { label: 'plate (part of fused)', session: plateModel, plate, options: () => ({ foreground: false }), times: [] },
    ...variants.map((session, i) => ({ label: `fused, prior at ${priorSides[i]} px`, session, plate, options: seq(), times: [] as number[] })),
    {
      label: `rvm, ${small.width} px frame, ${Math.round(priorRatio * small.width)} px inner (part of fused)`,
      session: rvm,
      frame: small,
      options: (() => {
        const s = new FrameSequence();
        return () => ({ sequence: s, foreground: false, downsampleRatio: priorRatio });
      })(),
      times: [],
    },
  ];
  try {
    for (const r of rows) await r.session.run(r.frame ?? frame, r.plate, r.options()); // warm-up: compile, plan memory
    for (let i = 0; i < RUNS; i++) {
      for (const r of rows) {
        const t0 = performance.now();
        await r.session.run(r.frame ?? frame, r.plate, r.options());
        r.times.push(performance.now() - t0);
      }
    }
  } finally {
    await Promise.all([rvm.dispose(), fused.dispose(), plateModel.dispose(), ...variants.map((v) => v.dispose())]);
  }
  const rvmMs = median(rows[0]!.times);
  const fusedMs = median(rows[1]!.times);
  console.log(
    `fused vs rvm at ${W}x${H}, CPU ${cpuThreads()} threads, median of ${RUNS} interleaved runs, load ${os
      .loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`,
  );
  console.log('model                              ms/frame   x rvm');
  for (const r of rows) console.log(`${r.label.padEnd(34)} ${median(r.times).toFixed(0).padStart(8)}   ${(median(r.times) / rvmMs).toFixed(2)}`);
  const parts = median(rows[2]!.times) + median(rows.at(-1)!.times);
  console.log(`fused - (its plate and rvm parts run one after the other): ${(fusedMs - parts).toFixed(0)} ms (fusion graph and foreground, less what running the two at once saves)`);
  console.log(`target fused <= 1.25x rvm: ${fusedMs / rvmMs <= 1.25 ? 'met' : 'NOT met'} (${(fusedMs / rvmMs).toFixed(2)}x)`);
}
