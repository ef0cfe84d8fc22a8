// What BackgroundMattingV2 costs here. The official weights cannot be downloaded on this machine,
// so the suite times a network of the same architecture and size (bench/networks/
// bgmv2-mobilenetv2.ts: MobileNetV2 backbone at the preset's scale, ASPP, decoder, sampling
// refiner with its top-k patch selection; random seeded weights, meaningless output, the real
// cost) through the engine's own Bgmv2Session (8-bit wrapper spliced in), at 1080p and 4K with
// the HD and 4K presets, next to the `plate` model and, when installed, the `fused` model, all
// measured interleaved in one run so machine noise hits each alike. A last row times the bare
// network on float tensors already in memory: the difference is the wrapper's cost.
// BENCH_BGMV2_RUNS (default 3) timed runs per row after one warm-up.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { bgmv2Settings } from '../../src/engine/matting/bgmv2/presets.js';
import { Bgmv2Session, loadBgmv2Model } from '../../src/engine/matting/bgmv2/session.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { MattingSession } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { HD_ID, K4_ID, repoManifest } from '../../test/support/bgmv2-models.js';
import { texturedPlate, withSquare } from '../../test/support/images.js';
import { buildBgmv2Network } from '../networks/bgmv2-mobilenetv2.js';

const RUNS = Number(process.env.BENCH_BGMV2_RUNS ?? 3);
const SIZES: [string, number, number][] = [
  ['1080p', 1920, 1080],
  ['4K', 3840, 2160],
];
/** The default model another issue adds; timed when its manifest entry and file are there. */
const FUSED_ID = 'fused';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function toNchw(f: Frame): Float32Array {
  const out = new Float32Array(3 * f.width * f.height);
  const plane = f.width * f.height;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = f.data[i * f.channels + c]! / 255;
  return out;
}

export default async function bgmv2Bench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-bgmv2-'));
  const sessions: MattingSession[] = [];
  try {
    const manifest = await repoManifest();
    const registry = await ModelRegistry.load();
    const networks: [string, Bgmv2Session][] = [];
    for (const id of [HD_ID, K4_ID]) {
      const settings = bgmv2Settings(manifest.models.find((m) => m.id === id)!);
      const built = buildBgmv2Network(settings);
      const file = path.join(dir, `${id}.onnx`);
      await writeFile(file, built.bytes);
      const loaded = await loadBgmv2Model(file, `${id} (random weights)`, settings, ['cpu']);
      const session = new Bgmv2Session(id, settings, loaded.session, loaded.provider, loaded.contract);
      sessions.push(session);
      networks.push([`bgmv2 ${settings.preset} preset (scale ${settings.backboneScale}, ${settings.refineSamplePixels} px)`, session]);
      if (id === HD_ID)
        console.log(
          `network: ${(built.parameters / 1e6).toFixed(2)} M parameters, ${(built.bytes.length / 2 ** 20).toFixed(1)} MiB; CPU, ${cpuThreads()} threads; load ${os.loadavg()[0]!.toFixed(1)}`,
        );
    }
    const others: [string, MattingSession][] = [['plate', await registry.open('plate')]];
    const fused = registry.list().find((m) => m.id === FUSED_ID);
    if (fused?.available) others.push([FUSED_ID, await registry.open(FUSED_ID)]);
    else console.log(`fused: ${fused ? `not available (${fused.unavailableReason})` : 'absent from models/manifest.json'}, not timed`);
    sessions.push(...others.map(([, s]) => s));

    console.log(`| frame | model | median ms/frame | min ms | x plate |`);
    console.log('|---|---|---|---|---|');
    for (const [label, W, H] of SIZES) {
      const plate = texturedPlate(W, H, 5);
      const frame = withSquare(plate, { x: Math.round(W * 0.36), y: Math.round(H * 0.28), size: Math.round(H * 0.37), color: [220, 50, 60] });
      const rows = [...networks, ...others];
      const times = rows.map(() => [] as number[]);
      for (let run = -1; run < RUNS; run++) {
        for (const [i, [, session]] of rows.entries()) {
          const t0 = performance.now();
          await session.run(frame, plate);
          if (run >= 0) times[i]!.push(performance.now() - t0);
        }
      }
      const plateMs = median(times[networks.length]!);
      for (const [i, [name]] of rows.entries()) {
        const m = median(times[i]!);
        console.log(`| ${label} | ${name} | ${m.toFixed(0)} | ${Math.min(...times[i]!).toFixed(0)} | ${(m / plateMs).toFixed(1)} |`);
      }
    }

    // The wrapper's cost at 1080p, HD preset: the bare network on float tensors in memory.
    const [W, H] = [1920, 1080];
    const plate = texturedPlate(W, H, 5);
    const frame = withSquare(plate, { x: 700, y: 300, size: 400, color: [220, 50, 60] });
    const raw = await ort.InferenceSession.create(path.join(dir, `${HD_ID}.onnx`), { executionProviders: ['cpu'], intraOpNumThreads: cpuThreads(), graphOptimizationLevel: 'all' });
    const feeds = { src: new ort.Tensor('float32', toNchw(frame), [1, 3, H, W]), bgr: new ort.Tensor('float32', toNchw(plate), [1, 3, H, W]) };
    const spliced = networks[0]![1];
    const t = { raw: [] as number[], spliced: [] as number[] };
    for (let run = -1; run < RUNS; run++) {
      let t0 = performance.now();
      await raw.run(feeds, ['pha', 'fgr']);
      if (run >= 0) t.raw.push(performance.now() - t0);
      t0 = performance.now();
      await spliced.run(frame, plate);
      if (run >= 0) t.spliced.push(performance.now() - t0);
    }
    await raw.release();
    console.log(
      `1080p HD preset: bare network ${median(t.raw).toFixed(0)} ms, with the 8-bit wrapper ${median(t.spliced).toFixed(0)} ms (wrapper ${(median(t.spliced) - median(t.raw)).toFixed(0)} ms); load ${os.loadavg()[0]!.toFixed(1)}`,
    );
  } finally {
    await Promise.all(sessions.map((s) => s.dispose()));
    await rm(dir, { recursive: true, force: true });
  }
}
