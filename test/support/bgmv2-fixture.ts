// A stand-in for the official BackgroundMattingV2 ONNX exports, built from TypeScript because
// the real weights cannot be downloaded here. It keeps their contract exactly: inputs `src`,
// `bgr` float32 (batch, 3, height, width) RGB 0..1 with dynamic batch/height/width, outputs
// `pha`, `fgr` and optionally the debugging outputs `pha_sm`, `fgr_sm`, `err_sm`, `ref_sm`,
// exported at opset 12 like the authors' script. Two of the real network's size rules are built
// in, so the wrapper's padding is tested against them rather than assumed:
// - height and width must be multiples of 4 (the refiner's 4x4 patch grid; here a reshape to
//   (B, 1, H/4, 4, W/4, 4) fails otherwise);
// - the quarter-resolution error map goes through TopK(refineSamplePixels / 16), which
//   onnxruntime refuses when the map has fewer entries (as in the real sampling refiner).
// Its outputs are known functions of the inputs, so tests can compute what to expect:
//   pha    = clamp(|dR| + 2|dG| + 4|dB|, 0, 1) with d = src - bgr
//   fgr    = (src + bgr) / 2
//   err_sm = 4x4 average of (|dR| + |dG| + |dB|) / 3, at 1/4 resolution
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../../src/engine/matting/onnx/graph-builder.js';

const { onnx } = onnxProto;

export interface FixtureOptions {
  /** Include pha_sm, fgr_sm, err_sm and ref_sm as the real exports do (default true). */
  readonly debugOutputs?: boolean;
  /** The sampling refiner's pixel budget baked into the "export" (default 3200). */
  readonly refineSamplePixels?: number;
  readonly opset?: number;
  /** Invalid variants: other input names, or channels-last inputs. */
  readonly inputNames?: readonly [string, string];
  readonly layout?: 'nchw' | 'nhwc';
}

export const PHA_WEIGHTS = [1, 2, 4] as const;

export function buildBgmv2Fixture(options: FixtureOptions = {}): Uint8Array {
  const { debugOutputs = true, refineSamplePixels = 3200, opset = 12, inputNames = ['src', 'bgr'], layout = 'nchw' } = options;
  const g = new GraphBuilder('bgmv2_fixture');
  const dims = layout === 'nchw' ? ['batch', 3, 'height', 'width'] : ['batch', 'height', 'width', 3];
  const nchw = (x: string) => (layout === 'nchw' ? x : g.op('Transpose', [x], { perm: [0, 3, 1, 2] }));
  const src = nchw(g.input(inputNames[0], 'float', dims));
  const bgr = nchw(g.input(inputNames[1], 'float', dims));

  const diff = g.op('Abs', [g.op('Sub', [src, bgr])]);
  const weighted = g.op('Conv', [diff, g.float([...PHA_WEIGHTS], [1, 3, 1, 1])]);
  const mean = g.op('Conv', [diff, g.float([1 / 3, 1 / 3, 1 / 3], [1, 3, 1, 1])]);
  const errSm = g.op('AveragePool', [mean], { kernel_shape: [4, 4], strides: [4, 4] });

  // Sampling refiner: rank the quarter-resolution error map, mark the top k patches.
  const flat = g.op('Reshape', [errSm, g.int64([0, -1])]);
  const [top, index] = g.opN('TopK', [flat, g.int64([Math.floor(refineSamplePixels / 16)])], 2, { axis: -1 });
  const zeros = g.op('Mul', [flat, g.float(0)]);
  const ones = g.op('Add', [g.op('Mul', [top!, g.float(0)]), g.float(1)]);
  const refSm = g.op('Reshape', [g.op('ScatterElements', [zeros, index!, ones], { axis: 1 }), g.op('Shape', [errSm])]);
  // The refined alpha depends on the selection, as in the real network (adds zero here).
  const selection = g.op('Reshape', [g.op('Mul', [g.op('ReduceMin', [top!], { axes: [1], keepdims: 1 }), g.float(0)]), g.int64([-1, 1, 1, 1])]);
  const raw = g.op('Clip', [g.op('Add', [weighted, selection]), g.float(0), g.float(1)]);

  // Patch grid: (B, 1, H, W) -> (B, 1, H/4, 4, W/4, 4) -> back; fails unless H, W are multiples of 4.
  const shape = g.op('Shape', [raw]);
  const dim = (i: number) => g.op('Slice', [shape, g.int64([i]), g.int64([i + 1]), g.int64([0])]);
  const four = g.int64([4]);
  const grid = g.op('Concat', [dim(0), dim(1), g.op('Div', [dim(2), four]), four, g.op('Div', [dim(3), four]), four], { axis: 0 });
  const pha = g.op('Reshape', [g.op('Reshape', [raw, grid]), shape]);
  const fgr = g.op('Mul', [g.op('Add', [src, bgr]), g.float(0.5)]);

  g.output('pha', pha, 'float', ['batch', 1, 'height', 'width']);
  g.output('fgr', fgr, 'float', ['batch', 3, 'height', 'width']);
  if (debugOutputs) {
    const pool = (x: string) => g.op('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] });
    g.output('pha_sm', pool(pha), 'float', ['batch', 1, 'coarse_height', 'coarse_width']);
    g.output('fgr_sm', pool(fgr), 'float', ['batch', 3, 'coarse_height', 'coarse_width']);
    g.output('err_sm', errSm, 'float', ['batch', 1, 'coarse_height', 'coarse_width']);
    g.output('ref_sm', refSm, 'float', ['batch', 1, 'quarter_height', 'quarter_width']);
  }
  // Re-stamp as the authors' exporter would: their opset (12 by default) and IR version 7.
  const model = onnx.ModelProto.decode(g.toBytes('BackgroundMattingV2 contract fixture (CleanPlate tests)'));
  model.opsetImport = [onnx.OperatorSetIdProto.create({ domain: '', version: opset })];
  model.irVersion = 7;
  model.producerName = 'pytorch';
  return onnx.ModelProto.encode(model).finish();
}

/** What the fixture computes, in 8-bit terms, for one pixel (frame and plate RGB 0..255). */
export function expectedPixel(s: readonly number[], b: readonly number[]): { alpha: number; rgb: number[]; errorTerm: number } {
  const d = [0, 1, 2].map((c) => Math.abs(s[c]! - b[c]!) / 255);
  const alpha = Math.min(1, d[0]! * PHA_WEIGHTS[0] + d[1]! * PHA_WEIGHTS[1] + d[2]! * PHA_WEIGHTS[2]);
  return {
    alpha: Math.round(alpha * 255),
    rgb: [0, 1, 2].map((c) => Math.round((s[c]! + b[c]!) / 2)),
    errorTerm: (d[0]! + d[1]! + d[2]!) / 3,
  };
}
