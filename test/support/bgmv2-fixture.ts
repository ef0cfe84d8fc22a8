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
  /** Float32 weights the graph carries (and reads), so the file has a download-like size (default 256 Ki = 1 MiB). */
  readonly weightCount?: number;
  /**
   * How the outputs' shapes are declared: literal channel counts (default); symbolic, as
   * PyTorch 1.13's exporter writes them (`Clippha_dim_1`); or no shape at all. Valid ONNX each.
   */
  readonly outputDims?: 'literal' | 'symbolic' | 'missing';
  /** An invalid variant whose `pha` really has this many channels (whatever is declared). */
  readonly realPhaChannels?: number;
}

export const PHA_WEIGHTS = [1, 2, 4] as const;

export function buildBgmv2Fixture(options: FixtureOptions = {}): Uint8Array {
  const { debugOutputs = true, refineSamplePixels = 3200, opset = 12, inputNames = ['src', 'bgr'], layout = 'nchw', weightCount = 256 * 1024, outputDims = 'literal', realPhaChannels = 1 } = options;
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
  // The refined alpha depends on the selection, as in the real network, and on the weights
  // (both add zero here).
  const weights = g.float(Array.from({ length: weightCount }, (_, i) => Math.sin(i) * 0.01));
  const used = g.op('Mul', [g.op('Add', [g.op('ReduceMin', [top!], { axes: [1], keepdims: 1 }), g.op('ReduceMax', [weights], { keepdims: 0 })]), g.float(0)]);
  const selection = g.op('Reshape', [used, g.int64([-1, 1, 1, 1])]);
  const raw = g.op('Clip', [g.op('Add', [weighted, selection]), g.float(0), g.float(1)]);

  // Patch grid: (B, 1, H, W) -> (B, 1, H/4, 4, W/4, 4) -> back; fails unless H, W are multiples of 4.
  const shape = g.op('Shape', [raw]);
  const dim = (i: number) => g.op('Slice', [shape, g.int64([i]), g.int64([i + 1]), g.int64([0])]);
  const four = g.int64([4]);
  const grid = g.op('Concat', [dim(0), dim(1), g.op('Div', [dim(2), four]), four, g.op('Div', [dim(3), four]), four], { axis: 0 });
  const onePha = g.op('Reshape', [g.op('Reshape', [raw, grid]), shape]);
  const pha =
    realPhaChannels === 1
      ? onePha
      : g.op(
          'Concat',
          Array.from({ length: realPhaChannels }, () => onePha),
          { axis: 1 },
        );
  const fgr = g.op('Mul', [g.op('Add', [src, bgr]), g.float(0.5)]);

  const out = (name: string, value: string, channels: number, h: string, w: string) => {
    const dims = { literal: ['batch', channels, h, w], symbolic: ['batch', `Clip${name}_dim_1`, h, w], missing: null }[outputDims];
    g.output(name, value, 'float', dims);
  };
  out('pha', pha, 1, 'height', 'width');
  out('fgr', fgr, 3, 'height', 'width');
  if (debugOutputs) {
    const pool = (x: string) => g.op('AveragePool', [x], { kernel_shape: [4, 4], strides: [4, 4] });
    out('pha_sm', pool(pha), 1, 'coarse_height', 'coarse_width');
    out('fgr_sm', pool(fgr), 3, 'coarse_height', 'coarse_width');
    out('err_sm', errSm, 1, 'coarse_height', 'coarse_width');
    out('ref_sm', refSm, 1, 'quarter_height', 'quarter_width');
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

export interface ExpectedMatte {
  readonly alpha: Uint8Array;
  /** RGBA, alpha = the alpha above. */
  readonly foreground: Uint8Array;
  /** The error map at 1/4 resolution, ceil(W/4) x ceil(H/4), over the edge-replicated frame. */
  readonly error: { readonly data: Uint8Array; readonly width: number; readonly height: number };
}

/** What the spliced fixture should return for a frame and plate (RGB or RGBA, same size). */
export function expectedMatte(src: { data: Uint8Array; width: number; height: number; channels: number }, bgr: { data: Uint8Array; channels: number }): ExpectedMatte {
  const { width: W, height: H } = src;
  const px = (f: { data: Uint8Array; channels: number }, x: number, y: number) => {
    const i = (Math.min(y, H - 1) * W + Math.min(x, W - 1)) * f.channels;
    return [f.data[i]!, f.data[i + 1]!, f.data[i + 2]!];
  };
  const alpha = new Uint8Array(W * H);
  const foreground = new Uint8Array(W * H * 4);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const e = expectedPixel(px(src, x, y), px(bgr, x, y));
      const i = y * W + x;
      alpha[i] = e.alpha;
      foreground.set([...e.rgb, e.alpha], i * 4);
    }
  }
  const ew = Math.ceil(W / 4);
  const eh = Math.ceil(H / 4);
  const error = new Uint8Array(ew * eh);
  for (let by = 0; by < eh; by++) {
    for (let bx = 0; bx < ew; bx++) {
      let sum = 0;
      for (let dy = 0; dy < 4; dy++) for (let dx = 0; dx < 4; dx++) sum += expectedPixel(px(src, bx * 4 + dx, by * 4 + dy), px(bgr, bx * 4 + dx, by * 4 + dy)).errorTerm;
      error[by * ew + bx] = Math.round((sum / 16) * 255);
    }
  }
  return { alpha, foreground, error: { data: error, width: ew, height: eh } };
}
