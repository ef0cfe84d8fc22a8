// onnxruntime's session options, chosen by measurement: rvm at 1080p (alpha + foreground, state
// carried; the model with the most ops, so the options matter most there) under each option,
// interleaved in one run, on the machine as found and with 2 busy-loop processes this bench
// starts. Beside them the graph as models:rvm converts it, without the load-time rewrite of its
// full-resolution stage (rvm/fast-tail.ts), under the engine's options: the before/after ratio.
// BENCH_ORT_RUNS frames per variant (default 9, rotating which variant starts each round). Skipped when models/rvm.onnx is not built.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import type * as ort from 'onnxruntime-node';
import { defaultModelsDir } from '../../src/engine/matting/manifest.js';
import { openOrtSession } from '../../src/engine/matting/providers.js';
import { defaultRvmSettings, RvmSession } from '../../src/engine/matting/rvm/session.js';
import { wrapRvm } from '../../src/engine/matting/rvm/wrap.js';
import { FrameSequence } from '../../src/engine/matting/types.js';
import { personFrame } from '../../test/support/rvm.js';
import { startBusyLoad } from '../busy-load.js';

const RUNS = Number(process.env.BENCH_ORT_RUNS ?? 9);
const W = 1920;
const H = 1080;

interface Variant {
  readonly label: string;
  readonly fastTail: boolean;
  readonly options: ort.InferenceSession.SessionOptions;
}

const spin = (on: boolean): ort.InferenceSession.SessionOptions => ({ extra: { session: { intra_op: { allow_spinning: on ? '1' : '0' } } } });

const VARIANTS: readonly Variant[] = [
  { label: 'engine: 1 thread, opt all, sequential, arena', fastTail: true, options: {} },
  { label: 'graph as converted (no fast tail)', fastTail: false, options: {} },
  { label: 'optimisation extended', fastTail: true, options: { graphOptimizationLevel: 'extended' } },
  { label: 'optimisation basic', fastTail: true, options: { graphOptimizationLevel: 'basic' } },
  { label: 'memory arena off', fastTail: true, options: { enableCpuMemArena: false } },
  { label: 'memory pattern off', fastTail: true, options: { enableMemPattern: false } },
  { label: '2 threads, spinning', fastTail: true, options: { intraOpNumThreads: 2, ...spin(true) } },
  { label: '2 threads, no spinning', fastTail: true, options: { intraOpNumThreads: 2, ...spin(false) } },
  { label: '2 threads, parallel mode, 2 inter-op', fastTail: true, options: { intraOpNumThreads: 2, interOpNumThreads: 2, executionMode: 'parallel' } },
];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

async function open(bytes: Uint8Array, v: Variant): Promise<RvmSession> {
  const wrapped = wrapRvm(onnxProto.onnx.ModelProto.decode(bytes), 'models/rvm.onnx', { fastTail: v.fastTail });
  const opened = await openOrtSession(wrapped, ['cpu'], { override: { intraOpNumThreads: 1, ...v.options } });
  return new RvmSession('rvm', defaultRvmSettings, opened.session, opened.provider);
}

async function measure(sessions: readonly RvmSession[], condition: string): Promise<void> {
  const frame = personFrame(W, H);
  const sequences = sessions.map(() => new FrameSequence());
  const wall = sessions.map(() => [] as number[]);
  const cpu = sessions.map(() => [] as number[]);
  for (const [k, s] of sessions.entries()) await s.run(frame, undefined, { sequence: sequences[k]! });
  for (let i = 0; i < RUNS; i++) {
    // Each round starts at another variant: the first of a round pays for what ran before it.
    for (let j = 0; j < sessions.length; j++) {
      const k = (i + j) % sessions.length;
      const s = sessions[k]!;
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      await s.run(frame, undefined, { sequence: sequences[k]! });
      wall[k]!.push(performance.now() - t0);
      const c = process.cpuUsage(c0);
      cpu[k]!.push((c.user + c.system) / 1000);
    }
  }
  console.log(`\n${condition}: load ${os.loadavg()[0]!.toFixed(1)}; median of ${RUNS} interleaved runs, rvm ${W}x${H} alpha + foreground`);
  console.log('options                                        ms/frame  x engine   CPU ms  x engine');
  const base = median(wall[0]!);
  const baseCpu = median(cpu[0]!);
  VARIANTS.forEach((v, k) => {
    const ms = median(wall[k]!);
    const c = median(cpu[k]!);
    console.log(`${v.label.padEnd(46)} ${ms.toFixed(0).padStart(8)}  ${(ms / base).toFixed(2).padStart(8)}  ${c.toFixed(0).padStart(7)}  ${(c / baseCpu).toFixed(2).padStart(8)}`);
  });
}

export default async function ortOptionsBench(): Promise<void> {
  const file = path.join(defaultModelsDir, 'rvm.onnx');
  if (!existsSync(file)) {
    console.log('ort-options: skipped: models/rvm.onnx is not there; run "npm run models:rvm" first');
    return;
  }
  const bytes = await readFile(file);
  const sessions: RvmSession[] = [];
  try {
    for (const v of VARIANTS) sessions.push(await open(bytes, v));
    await measure(sessions, `as found (${os.availableParallelism()} cores)`);
    const busy = startBusyLoad(2, 300);
    try {
      await measure(sessions, 'with 2 busy-loop processes');
    } finally {
      await busy.stop();
    }
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
  }
}
