// Hard edges of the `plate` model, from the compositing equation: I = alpha F + (1 - alpha) B, so
// with one subject colour F, alpha is the projection of I - B onto F - B. Along a solid subject's
// edge this reads the subject's own texture as subject, where the guided filter's alpha (linear
// in the guide |I - B|_1) reads it as transparency. It runs at full resolution, but only on the
// tiles that hold part of the band: the tiles are gathered from the uint8 frame and plate
// (GatherND on a (c, Hp, Wp/T, T) view, no transposes), D = I - gain * B is recomputed there, and
// the raised alpha is scattered back into the guided filter's.
import type { GraphBuilder } from '../onnx/graph-builder.js';
import { ramp, type PlateGeometry } from './geometry.js';
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
  /** (1, Hp, Wp): the guided filter's alpha. */
  readonly alpha: string;
  readonly geo: PlateGeometry;
  readonly settings: PlateSettings;
}

/** Tile side in low-resolution pixels: the largest of 4, 2, 1 that divides the low resolution. */
function tileSide(h: number, w: number): number {
  return [4, 2, 1].find((t) => h % t === 0 && w % t === 0)!;
}

/**
 * `alpha` (float (1, Hp, Wp), unclamped) raised to the projected alpha where the band says so
 * and the frame's colour lies near the line from the plate to F: the projection only ever adds
 * subject.
 */
export function hardEdges(g: GraphBuilder, x: HardEdgeInputs): string {
  const { k, paddedHeight: Hp, paddedWidth: Wp, lowHeight: h, lowWidth: w } = x.geo;
  const s = x.settings;
  const f = (v: number) => g.float(v);
  const i64 = (...v: number[]) => g.int64(v);
  const t = tileSide(h, w);
  const T = t * k;
  const nTy = h / t;
  const nTx = w / t;

  // The tiles where the band is anywhere above 0.
  const reach = g.op('MaxPool', [x.band], { kernel_shape: [t, t], strides: [t, t] });
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

  // Low resolution: F and the band as one 4-channel map, each tile's t x t pixels gathered as rows
  // of the (4, h, w/t, t) view and repeated k x k (both maps are smooth at that scale).
  const lowView = g.op('Reshape', [g.op('Concat', [x.colour, x.band], { axis: 1 }), i64(4, h, nTx, t)]);
  const lowRows = g.op('Add', [g.op('Mul', [ty, g.int64(t)]), range(t, [1, t])]);
  const lowTiles = g.op('GatherND', [lowView, tuples([range(4, [1, 4, 1, 1]), column(lowRows, [1, t, 1]), column(tx, [1, 1, 1])], [4, t])]); // (N, 4, t, t)
  const lowHere = k === 1 ? lowTiles : g.op('Reshape', [g.op('Expand', [g.op('Reshape', [lowTiles, i64(-1, 4, t, 1, t, 1)]), i64(1, 1, 1, k, 1, k)]), i64(-1, 4, T, T)]);
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
  const trust = g.op('Mul', [g.op('Mul', [ramp(g, band!, 0, 0.5), ramp(g, contrast, s.hardContrast[0], s.hardContrast[1])]), g.op('Sub', [f(1), ramp(g, offLine, s.hardFit[0], s.hardFit[1])])]);
  const floor = g.op('Reshape', [g.op('Mul', [trust, alpha]), i64(-1, T, T)]);

  // Read and written back as tile rows of the (Hp, Wp/T, T) view of alpha, i.e. (Hp, Wp): only
  // where the projection says more (elsewhere the guided filter's value stays bit for bit).
  const rowIdx = tuples([column(rows, [T, 1]), column(tx, [1, 1])], [T]); // (N, T, 2)
  const view = g.op('Reshape', [x.alpha, i64(Hp, nTx, T)]);
  const here = g.op('GatherND', [view, rowIdx]); // (N, T, T)
  // (Not where the projection is 0: the guided filter's slightly negative tails stay, and with
  // them its exact zeros, which say where the foreground's colour is not needed.)
  const raised = g.op('Where', [g.op('Greater', [floor, g.op('Max', [here, f(0)])]), floor, here]);
  return g.op('Reshape', [g.op('ScatterND', [view, rowIdx, raised]), i64(1, Hp, Wp)]);
}
