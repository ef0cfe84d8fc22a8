// The `fused` model's temporal stabiliser: in a clip or a live session, the plate branch's alpha
// is steadied against the previous frame's before fusion. The plate model has no memory between
// frames, so over a still subject sensor noise moves pixels near its thresholds every frame
// (flicker); RVM, the prior, is recurrent and steady already.
//
// Per block of `block` x `block` pixels, the frame's change since the previous frame (max channel
// difference of the block means, in levels, taken as the largest over the 3x3 neighbouring blocks,
// since the plate model's guided filter spreads an edge's change a few pixels into still blocks):
//   change <= change[0] (noise)      -> alpha moves `rest` of the way from the previous steady alpha
//   change >= change[1] (real motion) -> the new alpha at once; linear in between.
// And per pixel, a new alpha far from the previous one (jump[0]..jump[1], 0..1) passes at once
// whatever the block says: a subject that appears where the frame barely changed (a colour close
// to the plate's, a thin strand) must not fade in.
import { GraphBuilder } from '../onnx/graph-builder.js';

export interface TemporalSettings {
  /** Block side (pixels) over which the frame's change is measured. */
  readonly block: number;
  /** Block change (levels, max channel of the block means): still up to the first, moving from the second. */
  readonly change: readonly [number, number];
  /** Per-pixel alpha difference (0..1) from which the new alpha passes: none at the first, fully from the second. */
  readonly jump: readonly [number, number];
  /** Share of the way to the new alpha a still pixel moves per frame (1 = filter off). */
  readonly rest: number;
}

// rest 0.1 (not 1/4) and change 4..10: on the real static clip (capture pair 0001, bench:quality
// temporal) 1/4 left fused at 2.5x rvm's flicker, 0.1 at 0.96x; a subject moving 4 px a frame
// keeps its SAD (1.750 against 1.737 unfiltered), since motion opens the blocks it crosses.
export const defaultTemporalSettings: TemporalSettings = { block: 4, change: [4, 10], jump: [0.3, 0.6], rest: 0.1 };

/** Checks manifest values (merged over the defaults); returns an error message or undefined. */
export function temporalSettingsProblem(t: TemporalSettings): string | undefined {
  const pair = (p: unknown) => Array.isArray(p) && p.length === 2 && p.every((v) => typeof v === 'number' && Number.isFinite(v)) && p[0] < p[1];
  if (typeof t.block !== 'number' || !Number.isInteger(t.block) || t.block < 1 || t.block > 64) return 'block must be a whole number in 1..64';
  if (!pair(t.change) || t.change[0] < 0) return 'change must be two numbers [low, high], 0 <= low < high';
  if (!pair(t.jump) || t.jump[0] < 0 || t.jump[1] > 1) return 'jump must be two numbers [low, high] in 0..1, low < high';
  if (typeof t.rest !== 'number' || !(t.rest > 0 && t.rest <= 1)) return 'rest must be a number in (0, 1]';
  return undefined;
}

/** Size of the block-means map (`blocks`, float (bh, bw, 3), levels) for a frame size. */
export function blockGrid(width: number, height: number, block: number): { width: number; height: number } {
  return { width: Math.ceil(width / block), height: Math.ceil(height / block) };
}

export interface TemporalGraphSpec {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly settings?: TemporalSettings;
}

/**
 * Inputs: `src` uint8 (H, W, C), the frame; `alpha` uint8 (H, W), its plate alpha; `prev_alpha`
 * uint8 (H, W), the previous steady alpha; `prev_blocks` float (bh, bw, 3), the previous frame's
 * block means. Outputs `steady` uint8 (H, W) and this frame's `blocks`. With `prev_alpha` = `alpha`
 * the output is `alpha` exactly (a first frame: only its block means are wanted).
 */
export function buildTemporalGraph(spec: TemporalGraphSpec): Uint8Array {
  const s = spec.settings ?? defaultTemporalSettings;
  const { width: W, height: H, channels: C } = spec;
  const b = s.block;
  const { width: bw, height: bh } = blockGrid(W, H, b);
  const g = new GraphBuilder('cleanplate_fused_temporal');
  const f = (v: number) => g.float(v);
  const i64 = (...v: number[]) => g.int64(v);

  const src = g.input('src', 'uint8', [H, W, C]);
  const alpha = g.input('alpha', 'uint8', [H, W]);
  const prevAlpha = g.input('prev_alpha', 'uint8', [H, W]);
  const prevBlocks = g.input('prev_blocks', 'float', [bh, bw, 3]);

  // Block means of the frame's RGB (levels), edge-padded to whole blocks: the b rows of each block
  // summed exactly in uint8 -> int32 (MatMulInteger with ones), then each block's b pixels and
  // the channels sorted out by one small MatMul that also divides by b * b (an alpha channel
  // gets weight 0). A ReduceMean over the two block axes of the float frame cost 3x as much.
  let padded = src;
  if (bh * b !== H || bw * b !== W) padded = g.op('Pad', [src, i64(0, 0, 0, bh * b - H, bw * b - W, 0)], { mode: 'edge' });
  const rowSums = g.op('MatMulInteger', [g.uint8(Array(b).fill(1), [1, b]), g.op('Reshape', [padded, i64(bh, b, bw * b * C)])]); // (bh, 1, bw*b*C) int32
  const pick = Array.from({ length: b * C * 3 }, (_, i) => (Math.floor(i / 3) % C === i % 3 ? 1 / (b * b) : 0)); // row j*C + c -> column c
  const blocks = g.op('Reshape', [g.op('MatMul', [g.op('Reshape', [g.op('Cast', [rowSums], { to: 1 }), i64(bh * bw, b * C)]), g.float(pick, [b * C, 3])]), i64(bh, bw, 3)]);
  g.output('blocks', blocks, 'float', [bh, bw, 3]);

  // Per block: the share of the way to the new alpha, rest (still) .. 1 (moving).
  const change = g.op('ReduceMax', [g.op('Abs', [g.op('Sub', [blocks, prevBlocks])]), i64(2)], { keepdims: 0 }); // (bh, bw)
  const near = g.op('MaxPool', [g.op('Reshape', [change, i64(1, 1, bh, bw)])], { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
  // A ramp from `rest` at lo to 1 at hi, as one multiply-add and a clip: x * (1 - rest) / (hi - lo) + rest - lo * (1 - rest) / (hi - lo).
  const rampTo = (x: string, lo: number, hi: number) => {
    const slope = (1 - s.rest) / (hi - lo);
    return g.op('Clip', [g.op('Add', [g.op('Mul', [x, f(slope)]), f(s.rest - lo * slope)]), f(s.rest), f(1)]);
  };
  const blockRate = rampTo(near, s.change[0], s.change[1]); // (1, 1, bh, bw)
  // Each block's rate repeated along its pixels in x (nearest Resize at a quarter of the pixels); the
  // Max below broadcasts it over the block's b rows, a middle axis, which onnxruntime does at full
  // speed (an Expand to every pixel cost 1.4x a full Resize, which cost 3x this).
  let rateRow = g.op('Resize', [blockRate, '', '', i64(1, 1, bh, bw * b)], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' });
  if (bw * b !== W) rateRow = g.op('Slice', [rateRow, i64(0), i64(W), i64(3)]);
  rateRow = g.op('Reshape', [rateRow, i64(bh, 1, W)]);

  // Per pixel, in 0..255 units: a large alpha difference passes at once.
  const aNew = g.op('Cast', [alpha], { to: 1 });
  const aPrev = g.op('Cast', [prevAlpha], { to: 1 });
  const d = g.op('Sub', [aNew, aPrev]);
  let pixelRate = rampTo(g.op('Abs', [d]), 255 * s.jump[0], 255 * s.jump[1]);
  if (bh * b !== H) pixelRate = g.op('Pad', [pixelRate, i64(0, 0, bh * b - H, 0)], { mode: 'edge' });
  let rate = g.op('Reshape', [g.op('Max', [g.op('Reshape', [pixelRate, i64(bh, b, W)]), rateRow]), i64(bh * b, W)]);
  if (bh * b !== H) rate = g.op('Slice', [rate, i64(0), i64(H), i64(0)]);
  const steady = g.op('Add', [aPrev, g.op('Mul', [rate, d])]);
  g.output('steady', g.op('QuantizeLinear', [steady, f(1), g.uint8(0)]), 'uint8', [H, W]);
  return g.toBytes(`fused model temporal stabiliser ${W}x${H}x${C} block ${b}`);
}
