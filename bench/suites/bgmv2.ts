// What the bgmv2 wrapper costs, and what splicing saves, at 1080p on the contract fixture (the
// real weights are not available here; the fixture's own work is small, so the numbers isolate
// the 8-bit conversion, padding and cropping around the network):
//   network-only: the unwrapped fixture on float NCHW tensors already in memory;
//   spliced:      Bgmv2Session (uint8 in/out, conversion inside the one onnxruntime graph);
//   js-convert:   the unwrapped fixture with the conversion done in JS loops instead.
// wrapper overhead = spliced - network-only; splice saving = js-convert - spliced.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { bgmv2Settings } from '../../src/engine/matting/bgmv2/presets.js';
import { Bgmv2Session, loadBgmv2Model } from '../../src/engine/matting/bgmv2/session.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import type { Frame } from '../../src/engine/matting/types.js';
import { fixtureFor, HD_ID, repoManifest } from '../../test/support/bgmv2-models.js';
import { texturedPlate, withSquare } from '../../test/support/images.js';

const W = 1920;
const H = 1080;
const RUNS = Number(process.env.BENCH_BGMV2_RUNS ?? 10);

async function timeIt(label: string, fn: () => Promise<unknown>): Promise<number> {
  await fn(); // warm-up: first run plans memory
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t0 = performance.now();
    await fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  console.log(`${label.padEnd(14)} median ${median.toFixed(1)} ms/frame (min ${times[0]!.toFixed(1)}, ${RUNS} runs)`);
  return median;
}

function toNchw(f: Frame): Float32Array {
  const out = new Float32Array(3 * f.width * f.height);
  const plane = f.width * f.height;
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = f.data[i * f.channels + c]! / 255;
  return out;
}

export default async function bgmv2Bench(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cp-bench-bgmv2-'));
  try {
    const file = path.join(dir, 'fixture.onnx');
    await writeFile(file, await fixtureFor(HD_ID));
    const entry = (await repoManifest()).models.find((m) => m.id === HD_ID)!;
    const plate = texturedPlate(W, H, 5);
    const frame = withSquare(plate, { x: 700, y: 300, size: 400, color: [220, 50, 60] });
    console.log(`1920x1080, CPU, ${cpuThreads()} threads`);

    const loaded = await loadBgmv2Model(file, 'fixture', bgmv2Settings(entry), ['cpu']);
    const spliced = new Bgmv2Session(HD_ID, bgmv2Settings(entry), loaded.session, loaded.provider, loaded.contract);
    const raw = await ort.InferenceSession.create(file, { executionProviders: ['cpu'], intraOpNumThreads: cpuThreads(), graphOptimizationLevel: 'all' });
    const src = new ort.Tensor('float32', toNchw(frame), [1, 3, H, W]);
    const bgr = new ort.Tensor('float32', toNchw(plate), [1, 3, H, W]);

    const network = await timeIt('network-only', () => raw.run({ src, bgr }, ['pha', 'fgr']));
    const inGraph = await timeIt('spliced', () => spliced.run(frame, plate));
    const inJs = await timeIt('js-convert', async () => {
      const out = await raw.run({ src: new ort.Tensor('float32', toNchw(frame), [1, 3, H, W]), bgr: new ort.Tensor('float32', toNchw(plate), [1, 3, H, W]) }, ['pha', 'fgr']);
      const pha = out.pha!.data as Float32Array;
      const fgr = out.fgr!.data as Float32Array;
      const rgba = new Uint8Array(W * H * 4);
      const plane = W * H;
      for (let i = 0; i < plane; i++) {
        for (let c = 0; c < 3; c++) rgba[i * 4 + c] = Math.round(Math.min(1, Math.max(0, fgr[c * plane + i]!)) * 255);
        rgba[i * 4 + 3] = Math.round(Math.min(1, Math.max(0, pha[i]!)) * 255);
      }
      return rgba;
    });
    console.log(`wrapper overhead ${(inGraph - network).toFixed(1)} ms/frame; splicing saves ${(inJs - inGraph).toFixed(1)} ms/frame over JS conversion`);
    await spliced.dispose();
    await raw.release();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
