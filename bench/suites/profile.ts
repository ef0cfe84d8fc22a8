// Where each model spends its time, per onnxruntime op type, from onnxruntime's own profiler
// (CLEANPLATE_ORT_PROFILE): the default model and its parts at 1080p, run as a clip job runs them
// (the thread policy's job budget). Per model: kernel ms per frame summed over every graph it
// opens, the top op types, the share of layout ops (Transpose) the TFJS conversion adds, and the
// costliest single nodes with their output shapes (which pass at which resolution).
// BENCH_PROFILE_RUNS frames per model (default 6, after one warm-up frame that is not counted).
import { readdir, readFile, mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { inferenceThreads } from '../../src/engine/matting/thread-policy.js';
import { FrameSequence } from '../../src/engine/matting/types.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import { texturedPlate, withSquare } from '../../test/support/images.js';

const RUNS = Number(process.env.BENCH_PROFILE_RUNS ?? 6);
const W = 1920;
const H = 1080;
const JOB = { decode: true, encode: true, align: true } as const;
const MODELS = ['plate', 'rvm', 'fused'];

interface TraceEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
  readonly args?: { readonly op_name?: string; readonly output_type_shape?: readonly Record<string, readonly number[]>[] };
}

interface NodeTime {
  readonly op: string;
  readonly shape: string;
  us: number;
}

/** Kernel microseconds per op type and per node (keyed by profile file, since graphs reuse node names) over every profile file in `dir`. */
async function opTimes(dir: string): Promise<{ byOp: Map<string, number>; byNode: Map<string, NodeTime> }> {
  const byOp = new Map<string, number>();
  const byNode = new Map<string, NodeTime>();
  for (const f of await readdir(dir)) {
    const events = JSON.parse(await readFile(path.join(dir, f), 'utf8')) as TraceEvent[];
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name?.endsWith('_kernel_time') || !e.args?.op_name) continue;
      byOp.set(e.args.op_name, (byOp.get(e.args.op_name) ?? 0) + (e.dur ?? 0));
      const key = `${f}:${e.name}`;
      const node = byNode.get(key) ?? { op: e.args.op_name, shape: (e.args.output_type_shape ?? []).map((o) => Object.entries(o).map(([t, d]) => `${t}[${d.join(',')}]`)).join(' '), us: 0 };
      node.us += e.dur ?? 0;
      byNode.set(key, node);
    }
  }
  return { byOp, byNode };
}

export default async function profileBench(): Promise<void> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-profile-'));
  const registry = await ModelRegistry.load();
  const plate = texturedPlate(W, H, 3);
  const frame = withSquare(plate, { x: 700, y: 200, size: 500, color: [200, 40, 50] });
  console.log(`${W}x${H}, ${RUNS} frames per model (+1 warm-up, counted in the profile), onnxruntime ${inferenceThreads(JOB)} thread(s) (a clip job's budget); load ${os.loadavg()[0]!.toFixed(1)}`);
  const saved = process.env.CLEANPLATE_ORT_PROFILE;
  try {
    for (const id of MODELS) {
      const listed = registry.list().find((m) => m.id === id);
      if (!listed?.available) {
        console.log(`${id}: skipped (${listed?.unavailableReason ?? 'not in the manifest'})`);
        continue;
      }
      const dir = path.join(root, id);
      await mkdir(dir);
      process.env.CLEANPLATE_ORT_PROFILE = dir;
      const matting = new MattingService(registry);
      const sequence = new FrameSequence();
      let wall = 0;
      try {
        await matting.run(id, frame, plate, { foreground: true, sequence }, JOB);
        const t0 = performance.now();
        for (let i = 0; i < RUNS; i++) await matting.run(id, frame, plate, { foreground: true, sequence }, JOB);
        wall = (performance.now() - t0) / RUNS;
      } finally {
        await matting.dispose(); // releasing a session writes its profile
      }
      const { byOp, byNode } = await opTimes(dir);
      const frames = RUNS + 1;
      const total = [...byOp.values()].reduce((a, b) => a + b, 0) / 1000 / frames;
      const top = [...byOp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 8);
      const share = (us: number): string => `${((us / 1000 / frames / total) * 100).toFixed(0)}%`;
      const transpose = byOp.get('Transpose') ?? 0;
      console.log(`${id}: ${wall.toFixed(0)} ms/frame wall, ${total.toFixed(0)} ms/frame in kernels; Transpose ${(transpose / 1000 / frames).toFixed(1)} ms (${share(transpose)})`);
      console.log(`  ${top.map(([op, us]) => `${op} ${(us / 1000 / frames).toFixed(1)} ms (${share(us)})`).join(', ')}`);
      const nodes = [...byNode.values()].sort((a, b) => b.us - a.us).slice(0, 6);
      console.log(`  top nodes: ${nodes.map((n) => `${n.op} ${n.shape} ${(n.us / 1000 / frames).toFixed(1)} ms`).join('; ')}`);
    }
  } finally {
    if (saved === undefined) delete process.env.CLEANPLATE_ORT_PROFILE;
    else process.env.CLEANPLATE_ORT_PROFILE = saved;
    await rm(root, { recursive: true, force: true });
  }
}
