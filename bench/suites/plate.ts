// The `plate` model: speed at 720p, 1080p and 4K on this machine's CPU, next to a bare ONNX
// difference key measured in the same run (interleaved, so machine noise hits both alike), and
// quality (SAD/MSE) on the synthetic scenes against the oracle naive key.
import * as ort from 'onnxruntime-node';
import { GraphBuilder } from '../../src/engine/matting/onnx/graph-builder.js';
import { defaultPlateSettings, downsampleFactor } from '../../src/engine/matting/plate/settings.js';
import { PlateSession } from '../../src/engine/matting/plate/session.js';
import { openOrtSession } from '../../src/engine/matting/providers.js';
import type { Frame } from '../../src/engine/frame.js';
import { foregroundMse, mse, oracleNaiveKey, sad } from '../../src/eval/metrics.js';
import { makeScene, qualityScenes } from '../../src/eval/synthetic.js';

const SIZES: [string, number, number][] = [
  ['720p', 1280, 720],
  ['1080p', 1920, 1080],
  ['4K', 3840, 2160],
];

/** The least a difference matte can do: |I - B| max over channels through a sigmoid, uint8 in/out. */
function bareDifferenceGraph(width: number, height: number): Uint8Array {
  const g = new GraphBuilder('bare_difference');
  const src = g.op('Cast', [g.input('src', 'uint8', [height, width, 3])], { to: 1 });
  const bgr = g.op('Cast', [g.input('bgr', 'uint8', [height, width, 3])], { to: 1 });
  const diff = g.op('ReduceMax', [g.op('Abs', [g.op('Sub', [src, bgr])]), g.int64([2])], { keepdims: 0 });
  const alpha = g.op('Sigmoid', [g.op('Mul', [g.op('Sub', [diff, g.float(30)]), g.float(0.25)])]);
  g.output('alpha', g.op('QuantizeLinear', [alpha, g.float(1 / 255), g.uint8(0)]), 'uint8', [height, width]);
  return g.toBytes();
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function speed(): Promise<void> {
  const plate = new PlateSession('plate', defaultPlateSettings);
  console.log(`provider: ${(await openOrtSession(bareDifferenceGraph(16, 16))).provider}`);
  console.log('| size | k | plate alpha ms | plate alpha+fgr ms | bare diff ms | fps alpha | fps alpha+fgr | alpha / bare | alpha+fgr / bare |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const [label, W, H] of SIZES) {
    const scene = makeScene(label, { width: W, height: H, noise: 1.5, strands: true });
    const bare = (await openOrtSession(bareDifferenceGraph(W, H))).session;
    const feeds = {
      src: new ort.Tensor('uint8', scene.frame.data, [H, W, 3]),
      bgr: new ort.Tensor('uint8', scene.plate.data, [H, W, 3]),
    };
    const runs = W >= 3840 ? 8 : 15;
    const timed = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return performance.now() - t0;
    };
    const alphaOnly = () => plate.run(scene.frame, scene.plate, { foreground: false });
    const withFgr = () => plate.run(scene.frame, scene.plate, { foreground: true });
    const bareRun = () => bare.run(feeds);
    for (const warm of [alphaOnly, withFgr, bareRun]) await warm();
    const t = { alpha: [] as number[], fgr: [] as number[], bare: [] as number[] };
    for (let i = 0; i < runs; i++) {
      t.alpha.push(await timed(alphaOnly));
      t.fgr.push(await timed(withFgr));
      t.bare.push(await timed(bareRun));
    }
    const [a, f, b] = [median(t.alpha), median(t.fgr), median(t.bare)];
    console.log(
      `| ${label} ${W}x${H} | ${downsampleFactor(W)} | ${a.toFixed(1)} | ${f.toFixed(1)} | ${b.toFixed(1)} | ${(1000 / a).toFixed(1)} | ${(1000 / f).toFixed(1)} | ${(a / b).toFixed(2)} | ${(f / b).toFixed(2)} |`,
    );
    await bare.release();
  }
  await plate.dispose();
}

async function quality(): Promise<void> {
  const plate = new PlateSession('plate', defaultPlateSettings);
  for (const [W, H] of [
    [640, 360],
    [1920, 1080],
  ] as const) {
    console.log(`\nquality at ${W}x${H} (SAD /1000, MSE x1e3; naive key with its best threshold per image)`);
    console.log('| scene | plate SAD | plate MSE | naive SAD | naive MSE | SAD ratio | fgr MSE (edges) | frame-as-fgr MSE (edges) |');
    console.log('|---|---|---|---|---|---|---|---|');
    for (const scene of qualityScenes(W, H)) {
      const r = await plate.run(scene.frame, scene.plate);
      const naive = oracleNaiveKey(scene.frame, scene.plate, scene.alpha);
      const edge = scene.alpha.map((a) => (a > 0 && a < 1 ? a : 0));
      const asFgr: Frame = scene.frame;
      console.log(
        `| ${scene.name} | ${sad(r.alpha, scene.alpha).toFixed(2)} | ${mse(r.alpha, scene.alpha).toFixed(2)} | ${naive.sad.toFixed(2)} | ${mse(naive.alpha, scene.alpha).toFixed(2)} | ` +
          `${(sad(r.alpha, scene.alpha) / naive.sad).toFixed(2)} | ${foregroundMse(r.foreground!, scene.foreground, edge).toFixed(2)} | ${foregroundMse(asFgr, scene.foreground, edge).toFixed(2)} |`,
      );
    }
  }
  await plate.dispose();
}

export default async function (): Promise<void> {
  await speed();
  await quality();
}
