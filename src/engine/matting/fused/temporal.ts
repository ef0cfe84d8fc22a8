// The fused model's temporal stabiliser, for clips and live sessions: the plate branch and the
// fusion's maps have no memory, so sensor noise near their thresholds makes a static subject's
// alpha shimmer from frame to frame. Where the picture has not changed beyond noise, the fused
// alpha moves only part of the way from the last one toward the new one (an exponential average,
// inside the fusion graph, so the foreground follows the same alpha); where the
// picture changed (the subject moved) or the alpha changed a lot (a subject appeared in a still
// region), the new alpha passes at once, so motion is never dragged.
//
//   change = mean |frame - previous frame| over a block x block window (all channels, levels)
//   rate   = rest + (1 - rest) * max(ramp(change; change0, jump), ramp(|a - aPrev|; 0.3, 0.6))
//   alpha  = aPrev + rate * (a - aPrev)
import { GraphBuilder } from '../onnx/graph-builder.js';

export interface TemporalSettings {
  /** Side (pixels) of the blocks over which the frame's change is measured. */
  readonly block: number;
  /** Mean change per channel (levels) up to which a block counts as unchanged (sensor noise)... */
  readonly change: number;
  /** ...and from which it counts as changed: the new alpha passes at once. */
  readonly jump: number;
  /** Share of the way the alpha moves per frame in an unchanged block; 1 turns the filter off. */
  readonly rest: number;
}

export const defaultTemporalSettings: TemporalSettings = { block: 4, change: 3, jump: 8, rest: 0.2 };

/** An alpha change (0..1) from this much on passes through partly, and from the second at once: a
 * subject appearing where the picture barely changed (its colour close to the plate) is not faded in. */
const ALPHA_JUMP: readonly [number, number] = [0.5, 0.8];

/** Throws naming the field when the manifest's `temporal` settings are out of range. */
export function checkTemporalSettings(s: TemporalSettings, where: string): TemporalSettings {
  if (!Number.isInteger(s.block) || s.block < 1 || s.block > 64) throw new Error(`${where}.block must be a whole number in [1, 64]`);
  if (!(s.change >= 0 && s.jump > s.change)) throw new Error(`${where}: change must be >= 0 and jump greater than change`);
  if (!(s.rest > 0 && s.rest <= 1)) throw new Error(`${where}.rest must be in (0, 1] (1 = off)`);
  return s;
}

/**
 * Adds the stabiliser to a graph under construction: `src` and `prev` are uint8 (H, W, C) inputs
 * (this frame, the one before), `alpha` float (H, W) in 0..255 (this frame's alpha), `alphaPrev`
 * a uint8 (H, W) input (the last stabilised alpha). Returns the stabilised alpha, float (H, W).
 */
export function addTemporalFilter(
  g: GraphBuilder,
  io: { readonly src: string; readonly prev: string; readonly alpha: string; readonly alphaPrev: string },
  size: { readonly width: number; readonly height: number; readonly channels: 3 | 4 },
  s: TemporalSettings,
): string {
  const { width: W, height: H, channels: C } = size;
  const f = (v: number) => g.float(v);
  const i64 = (...v: number[]) => g.int64(v);
  const sub = (x: string, y: string) => g.op('Sub', [x, y]);
  const mul = (x: string, y: string) => g.op('Mul', [x, y]);
  const ramp = (x: string, lo: number, hi: number) => g.op('Clip', [mul(sub(x, f(lo)), f(1 / (hi - lo))), f(0), f(1)]);
  const float = (x: string) => g.op('Cast', [x], { to: 1 });

  // Block means of |frame - previous| with the channels folded into the row: one pooling over a
  // (block, block * C) window averages pixels and channels at once (no channel reduction pass).
  const b = s.block;
  const diff = g.op('Reshape', [g.op('Abs', [sub(float(io.src), float(io.prev))]), i64(1, 1, H, W * C)]);
  const blocks = g.op('AveragePool', [diff], { kernel_shape: [b, b * C], strides: [b, b * C], ceil_mode: 1, count_include_pad: 0 });
  const bh = Math.ceil(H / b);
  const bw = Math.ceil(W / b);
  let moved = ramp(blocks, s.change, s.jump); // (1, 1, bh, bw)
  if (b > 1) {
    moved = g.op('Resize', [moved, '', '', i64(1, 1, bh * b, bw * b)], { mode: 'nearest' });
    if (bh * b !== H || bw * b !== W) moved = g.op('Slice', [moved, i64(0, 0), i64(H, W), i64(2, 3)]);
  }
  moved = g.op('Reshape', [moved, i64(H, W)]);

  const aPrev = float(io.alphaPrev);
  const step = sub(io.alpha, aPrev);
  const jumped = ramp(g.op('Abs', [step]), 255 * ALPHA_JUMP[0], 255 * ALPHA_JUMP[1]);
  const rate = g.op('Add', [f(s.rest), mul(f(1 - s.rest), g.op('Max', [moved, jumped]))]);
  return g.op('Add', [aPrev, mul(rate, step)]);
}
