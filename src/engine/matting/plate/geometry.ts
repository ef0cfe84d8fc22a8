// The `plate` model's geometry (frame padded to a multiple of the low-resolution factor), the
// planar uint8 input and block reductions both of its graphs use, and the once-per-plate graph.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { defaultPlateSettings, downsampleFactor, type PlateSettings } from './settings.js';

/** Sizes of one frame size's graphs: padded to a multiple of the low-resolution factor k. */
export interface PlateGeometry {
  readonly width: number;
  readonly height: number;
  readonly k: number;
  readonly paddedWidth: number;
  readonly paddedHeight: number;
  readonly lowWidth: number;
  readonly lowHeight: number;
}

export function plateGeometry(width: number, height: number, settings: PlateSettings = defaultPlateSettings): PlateGeometry {
  const k = downsampleFactor(width, settings);
  const paddedHeight = Math.ceil(height / k) * k;
  const paddedWidth = Math.ceil(width / k) * k;
  return { width, height, k, paddedWidth, paddedHeight, lowWidth: paddedWidth / k, lowHeight: paddedHeight / k };
}

/**
 * Interleaved uint8 (H, W, C) -> planar uint8 (3, Hp, Wp), edge-padded. uint8 transposes are
 * cheap; the 2-D form keeps onnxruntime's transpose optimizer from moving it past later ops
 * (into a float transpose, or into broadcasts over a trailing size-1 axis: 20x slower).
 */
export function planarInput(g: GraphBuilder, name: string, geo: PlateGeometry, C: 3 | 4): string {
  const { width: W, height: H } = geo;
  const x = g.input(name, 'uint8', [H, W, C]);
  let chw = g.op('Reshape', [g.op('Transpose', [g.op('Reshape', [x, g.int64([H * W, C])])], { perm: [1, 0] }), g.int64([C, H, W])]);
  if (C === 4) chw = g.op('Slice', [chw, g.int64([0]), g.int64([3]), g.int64([0])]);
  if (geo.paddedHeight !== H || geo.paddedWidth !== W) {
    chw = g.op('Pad', [chw, g.int64([0, 0, 0, 0, geo.paddedHeight - H, geo.paddedWidth - W])], { mode: 'edge' });
  }
  return chw;
}

/** Box-average (c, Hp, Wp) down to (c, h, w) with one reduction over a reshaped view. */
export function reduceBlocks(g: GraphBuilder, op: 'ReduceMean' | 'ReduceSum', x: string, c: number, geo: PlateGeometry): string {
  const { k, lowHeight: h, lowWidth: w } = geo;
  return g.op(op, [g.op('Reshape', [x, g.int64([c, h, k, w, k])]), g.int64([2, 4])], { keepdims: 0 });
}

/** 0 at `lo`, 1 at `hi`, linear in between. */
export function ramp(g: GraphBuilder, x: string, lo: number, hi: number): string {
  return g.op('Clip', [g.op('Mul', [g.op('Sub', [x, g.float(lo)]), g.float(1 / (hi - lo))]), g.float(0), g.float(1)]);
}

/**
 * The plate's part, run once per plate (a clip or a live session reuses it for every frame):
 * input `bgr` uint8 (H, W, C); outputs `bgr_planar` uint8 (3, Hp, Wp) and `bgr_low` float
 * (3, h, w) in 0..1.
 */
export function buildPlatePrepGraph(width: number, height: number, channels: 3 | 4, settings: PlateSettings = defaultPlateSettings): Uint8Array {
  const geo = plateGeometry(width, height, settings);
  const g = new GraphBuilder('cleanplate_plate_prep');
  const planar = planarInput(g, 'bgr', geo, channels);
  const float = g.op('DequantizeLinear', [planar, g.float(1 / 255), g.uint8(0)]);
  const low = reduceBlocks(g, 'ReduceMean', float, 3, geo);
  g.output('bgr_planar', planar, 'uint8', [3, geo.paddedHeight, geo.paddedWidth]);
  g.output('bgr_low', low, 'float', [3, geo.lowHeight, geo.lowWidth]);
  return g.toBytes(`plate model plate preparation ${width}x${height}x${channels}`);
}
