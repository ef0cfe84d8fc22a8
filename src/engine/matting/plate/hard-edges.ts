// Hard edges of the `plate` model, from the compositing equation: I = alpha F + (1 - alpha) B, so
// with one subject colour F, alpha is the projection of I - B onto F - B. Along a solid subject's
// edge this reads the subject's own texture as subject, where the guided filter's alpha (linear
// in the guide |I - B|_1) reads it as transparency. It runs at full resolution, but only on the
// tiles that hold part of the band: the tiles are gathered from the uint8 frame and plate
// (GatherND on a (c, Hp, Wp/T, T) view, no transposes), D = I - gain * B is recomputed there, and
// the result is scattered into a uint8 map that is zero elsewhere.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { ramp, shiftForAsymmetricResize, type PlateGeometry } from './geometry.js';
import type { PlateSettings } from './settings.js';

export interface HardEdgeInputs {
  /** uint8 (6, Hp, Wp): the frame's planes, then the plate's. */
  readonly planes: string;
  /** (3, 1, 1): the exposure gain of D = I - gain * B. */
  readonly gain: string;
  /** Per-pixel noise variance of D per channel (0..1 units), a scalar tensor. */
  readonly pointVar: string;
  /** (1, 1, h, w): where to try the projection (0..1, a weight). */
  readonly band: string;
  /** (1, 3, h, w): the subject colour F (0..1) next to the band. */
  readonly colour: string;
  readonly geo: PlateGeometry;
  readonly settings: PlateSettings;
}

/** Tile side in low-resolution pixels: the largest of 4, 2, 1 that divides the low resolution. */
function tileSide(h: number, w: number): number {
  return [4, 2, 1].find((t) => h % t === 0 && w % t === 0)!;
}

/**
 * The projected alpha (float (1, Hp, Wp), quantised to 1/255) where the band says so and the
 * frame's colour lies on the line from the plate to F; 0 elsewhere. The caller takes the larger
 * of it and its own alpha: the projection only ever adds subject.
 */
export function hardEdgeFloor(g: GraphBuilder, x: HardEdgeInputs): string {
  const { k, paddedHeight: Hp, paddedWidth: Wp, lowHeight: h, lowWidth: w } = x.geo;
  const s = x.settings;
  const f = (v: number) => g.float(v);
  const i64 = (...v: number[]) => g.int64(v);
  const t = tileSide(h, w);
  const T = t * k;
  const nTy = h / t;
  const nTx = w / t;

  // The tiles whose interpolated band is anywhere above 0 (the shift below reaches one pixel back).
  const reach = g.op('MaxPool', [x.band], { kernel_shape: [t + 2, t + 2], strides: [t, t], pads: [1, 1, 1, 1] });
  const tiles = g.op('Transpose', [g.op('NonZero', [g.op('Reshape', [g.op('Greater', [reach, f(0)]), i64(nTy, nTx)])])], { perm: [1, 0] }); // (N, 2)
  const count = g.op('Shape', [tiles], { end: 1 });
  const column = (v: string, dims: number[]) => g.op('Reshape', [v, i64(-1, ...dims)]);
  const ty = g.op('Slice', [tiles, i64(0), i64(1), i64(1)]); // (N, 1)
  const tx = g.op('Slice', [tiles, i64(1), i64(2), i64(1)]);
  const range = (n: number, dims: number[]) =>
    g.int64(
      Array.from({ length: n }, (_, i) => i),
      dims,
    );
  // GatherND / ScatterND index tuples: the parts broadcast to (N, ...dims, 1) and side by side.
  const tuples = (parts: string[], dims: number[]) =>
    g.op(
      'Concat',
      parts.map((p) => g.op('Expand', [p, g.op('Concat', [count, g.int64([...dims, 1])], { axis: 0 })])),
      { axis: dims.length + 1 },
    );

  // Full resolution: frame and plate rows of each tile from the (6, Hp, Wp/T, T) view of the
  // [frame; plate] planes, as (N, 6, T, T).
  const rows = g.op('Add', [g.op('Mul', [ty, g.int64(T)]), range(T, [1, T])]); // (N, T)
  const pixels = g.op('GatherND', [g.op('Reshape', [x.planes, i64(6, Hp, nTx, T)]), tuples([range(6, [1, 6, 1, 1]), column(rows, [1, T, 1]), column(tx, [1, 1, 1])], [6, T])]);
  const [frame, plate] = g.opN('Split', [g.op('Cast', [pixels], { to: 1 }), i64(3, 3)], 2, { axis: 1 }); // levels
  const gainB = g.op('Mul', [plate!, g.op('Reshape', [x.gain, i64(1, 3, 1, 1)])]);

  // Low resolution: F and the band as one 4-channel map, shifted for the asymmetric resize; each
  // tile takes its t + 1 pixels a side (interpolation reaches one into the next tile) and is
  // upsampled on its own.
  const low = shiftForAsymmetricResize(g, g.op('Concat', [x.colour, x.band], { axis: 1 }), 4, k);
  const lowPadded = g.op('Squeeze', [g.op('Pad', [low, i64(0, 0, 0, 0, 0, 0, 1, 1)], { mode: 'edge' }), i64(0)]); // (4, h+1, w+1)
  const lowRows = g.op('Add', [g.op('Mul', [ty, g.int64(t)]), range(t + 1, [1, t + 1])]);
  const lowCols = g.op('Add', [g.op('Mul', [tx, g.int64(t)]), range(t + 1, [1, t + 1])]);
  let lowHere = g.op('GatherND', [lowPadded, tuples([range(4, [1, 4, 1, 1, 1]), column(lowRows, [1, t + 1, 1, 1]), column(lowCols, [1, 1, t + 1, 1])], [4, t + 1, t + 1])]);
  if (k > 1) lowHere = g.op('Resize', [lowHere, '', g.float([1, 1, k, k])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' });
  lowHere = g.op('Slice', [lowHere, i64(0, 0), i64(T, T), i64(2, 3)]);
  const [colour, band] = g.opN('Split', [lowHere, i64(3, 1)], 2, { axis: 1 });

  // alpha = <D, F - B> / |F - B|^2, trusted where F - B stands well above the noise (else the
  // projection is noise) and the frame lies close to the line from B to F (else it is a colour
  // the single F does not explain, and the guided filter's alpha stays).
  const sumC = (v: string) => g.op('ReduceSum', [v, i64(1)], { keepdims: 1 });
  const D = g.op('Sub', [frame!, gainB]);
  const FB = g.op('Sub', [g.op('Mul', [colour!, f(255)]), gainB]);
  const norm = g.op('Add', [sumC(g.op('Mul', [FB, FB])), f(1e-3)]);
  const alpha = g.op('Clip', [g.op('Div', [sumC(g.op('Mul', [D, FB])), norm]), f(0), f(1)]);
  const miss = g.op('Sub', [D, g.op('Mul', [alpha, FB])]);
  const offLine = g.op('Div', [sumC(g.op('Mul', [miss, miss])), norm]);
  const contrast = g.op('Sqrt', [g.op('Div', [norm, g.op('Mul', [x.pointVar, f(3 * 255 * 255)])])]); // RMS sigmas of F - B
  const trust = g.op('Mul', [g.op('Mul', [ramp(g, band!, 0, 0.5), ramp(g, contrast, s.zGate, s.zLow)]), g.op('Sub', [f(1), ramp(g, offLine, s.hardFit[0], s.hardFit[1])])]);
  const floor8 = g.op('Reshape', [g.op('QuantizeLinear', [g.op('Mul', [trust, alpha]), f(1 / 255), g.uint8(0)]), i64(-1, T, T)]);

  // Scattered as tile rows into a zero map of the (Hp, Wp/T, T) view, i.e. (Hp, Wp).
  const rowIdx = tuples([column(rows, [T, 1]), column(tx, [1, 1])], [T]); // (N, T, 2)
  const canvas = g.op('Expand', [g.uint8(0), i64(Hp, nTx, T)]);
  const scattered = g.op('ScatterND', [canvas, rowIdx, floor8]);
  return g.op('DequantizeLinear', [g.op('Reshape', [scattered, i64(1, Hp, Wp)]), f(1 / 255), g.uint8(0)]);
}
