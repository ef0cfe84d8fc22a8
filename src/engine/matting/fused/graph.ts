// The `fused` model's fusion graph: the plate model's alpha (plate evidence, full resolution) and
// RVM's alpha (a learned person prior) combined per pixel by what the plate can tell there.
//
//   alpha = alphaPlate + trust * floor(alphaRvm) * max(0, alphaRvm - alphaPlate)
//
// - alpha >= alphaPlate everywhere: where the plate clearly disagrees with the frame the subject is
//   there, person or not (the plate model's own interior, edges, shadows and semi-transparency).
// - trust = 0 where `agree` (low resolution, upsampled): the frame follows the plate's texture over a window (local
//   regression of frame on plate with R^2 near 1, slope in the range of plate-to-shadow) where the
//   plate has texture well above the noise. There the plate's verdict stands even against RVM: a
//   poster, a statue or a person that is part of the plate stays background, as do cast shadows.
// - Everywhere else (subject colour close to the plate, flat plate) RVM adds what the plate misses:
//   no holes inside a person, and RVM's full-resolution guided-filter edges where the plate saw none.
//   Except in RVM's soft band over a flat plate next to a subject that differs clearly from it:
//   there the plate's per-pixel verdict is reliable and RVM's low-resolution halo is dropped.
// The foreground follows from the compositing equation with the fused alpha: F = B + (I - B) / alpha.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { plateGeometry, ramp as rampOp } from '../plate/geometry.js';
import type { PlateSettings } from '../plate/settings.js';

export interface FusionSettings {
  /** Window radius (low-resolution pixels) of the frame-on-plate regression. */
  readonly agreeRadius: number;
  /** R^2 of that regression: no agreement below the first, full agreement from the second. */
  readonly agreeR2: readonly [number, number];
  /** Summed plate variance in the window (0..1 units, 3 channels): flat below the first, textured from the second. */
  readonly textureVar: readonly [number, number];
  /** Smallest regression slope that still counts as the plate (a cast shadow darkens it to about this). */
  readonly minSlope: number;
  /** The plate is decisive within this many low-resolution pixels of a difference from the plate
   * (RGB distance, 0..1: none below the first, full from the second) that is this many times the
   * plate's own local variation (its standard deviation over the agreement window)... */
  readonly flatReach: number;
  readonly flatContrast: readonly [number, number];
  readonly flatRatio: readonly [number, number];
  /** ...where RVM's alpha is soft (below the first; RVM's solid interior from the second stays). */
  readonly solidPrior: readonly [number, number];
  /** RVM's alpha adds nothing below the first and in full from the second (0..1). */
  readonly priorFloor: readonly [number, number];
  /** Below this fused alpha the foreground colour is capped (it does not show). */
  readonly minAlphaForeground: number;
}

export const defaultFusionSettings: FusionSettings = {
  agreeRadius: 3,
  agreeR2: [0.5, 0.8],
  textureVar: [4e-4, 2e-3],
  minSlope: 0.25,
  flatReach: 4,
  flatContrast: [0.06, 0.12],
  flatRatio: [4, 8],
  solidPrior: [0.8, 0.95],
  priorFloor: [0.4, 0.7],
  minAlphaForeground: 0.1,
};

export interface FusionGraphSpec {
  readonly width: number;
  readonly height: number;
  readonly channels: 3 | 4;
  readonly foreground: boolean;
  /** The plate model's settings: the fusion works on the same low-resolution grid. */
  readonly plateSettings: PlateSettings;
  readonly settings?: FusionSettings;
  /** Size of `alpha_rvm` when the learned prior ran on a downscaled frame (default: the frame's). */
  readonly priorWidth?: number;
  readonly priorHeight?: number;
  /** Also output the agreement map (float 1x1xhxw) for tuning. */
  readonly debug?: boolean;
}

/**
 * Inputs: `src` and `bgr` uint8 (H, W, C); `alpha_plate` uint8 (H, W); `alpha_rvm` uint8
 * (1, ph, pw, 1), the prior's alpha at the size it ran at (upsampled here when smaller). Outputs `alpha` uint8 (H, W)
 * and, with `foreground`, `fgr` uint8 (H, W, 4) straight RGBA.
 */
export function buildFusionGraph(spec: FusionGraphSpec): Uint8Array {
  const s = spec.settings ?? defaultFusionSettings;
  const { width: W, height: H, channels: C } = spec;
  const { k, paddedHeight: Hp, paddedWidth: Wp, lowHeight: h, lowWidth: w } = plateGeometry(W, H, spec.plateSettings);
  const g = new GraphBuilder('cleanplate_fused');
  const f = (v: number) => g.float(v);
  const i64 = (...v: number[]) => g.int64(v);
  const mul = (x: string, y: string) => g.op('Mul', [x, y]);
  const add = (x: string, y: string) => g.op('Add', [x, y]);
  const sub = (x: string, y: string) => g.op('Sub', [x, y]);
  const div = (x: string, y: string) => g.op('Div', [x, y]);
  const ramp = (x: string, lo: number, hi: number) => rampOp(g, x, lo, hi);
  const unit = (x: string) => g.op('DequantizeLinear', [x, f(1 / 255), g.uint8(0)]);
  const rgb = (x: string) => (C === 4 ? g.op('Slice', [x, i64(0), i64(3), i64(2)]) : x);

  const src = g.input('src', 'uint8', [H, W, C]);
  const bgr = g.input('bgr', 'uint8', [H, W, C]);
  const alphaPlate = g.input('alpha_plate', 'uint8', [H, W]);
  const pw = spec.priorWidth ?? W;
  const ph = spec.priorHeight ?? H;
  const alphaRvm = g.input('alpha_rvm', 'uint8', [1, ph, pw, 1]);

  // --- low resolution: frame and plate point-sampled on the plate model's grid (one pixel per
  // k x k block, its centre). Block means would cost two full-resolution passes per image; the
  // statistics below are windowed, which averages the samples' noise anyway.
  const o = Math.floor(k / 2);
  const low = (x: string) => {
    let hw = g.op('Slice', [rgb(x), i64(o, o), i64(H, W), i64(0, 1), i64(k, k)]); // (<=h, <=w, 3) uint8
    const nh = Math.ceil((H - o) / k);
    const nw = Math.ceil((W - o) / k);
    if (nh !== h || nw !== w) hw = g.op('Pad', [hw, i64(0, 0, 0, h - nh, w - nw, 0)], { mode: 'edge' });
    return g.op('Unsqueeze', [g.op('Transpose', [unit(hw)], { perm: [2, 0, 1] }), i64(0)]); // (1, 3, h, w)
  };
  const Is = low(src);
  const Bn = low(bgr);

  // --- agreement: local regression of frame on plate (separable box filter, exact at borders)
  const r = s.agreeRadius;
  const box = (x: string) =>
    g.op('AveragePool', [g.op('AveragePool', [x], { kernel_shape: [2 * r + 1, 1], pads: [r, 0, r, 0], count_include_pad: 0 })], {
      kernel_shape: [1, 2 * r + 1],
      pads: [0, r, 0, r],
      count_include_pad: 0,
    });
  const sumC = (x: string) => g.op('ReduceSum', [x, i64(1)], { keepdims: 1 });
  // sum_c a_c * b_c for three pairs of 3-channel maps at once: one Mul over the stacked pairs and
  // one MatMul that sums each group of three channels -> (1, 3, h, w). The box filter is linear, so
  // the window means of these channel sums replace 9 boxed product channels by 3.
  const groupSums = g.float([1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1], [3, 9]);
  const dot3 = (a: string[], b: string[]) => {
    const prod = mul(g.op('Concat', a, { axis: 1 }), g.op('Concat', b, { axis: 1 })); // (1, 9, h, w)
    return g.op('Reshape', [g.op('MatMul', [groupSums, g.op('Reshape', [prod, i64(9, h * w)])]), i64(1, 3, h, w)]);
  };
  const stats = box(g.op('Concat', [Is, Bn, dot3([Is, Bn, Is], [Bn, Bn, Is])], { axis: 1 })); // (1, 9, h, w)
  const [mI, mB, mProducts] = g.opN('Split', [stats, i64(3, 3, 3)], 3, { axis: 1 });
  const [cov, varB, varI] = g.opN('Split', [sub(mProducts!, dot3([mI!, mB!, mI!], [mB!, mB!, mI!])), i64(1, 1, 1)], 3, { axis: 1 }) as [string, string, string];
  const eps = f(1e-8);
  const slope = div(cov, add(varB, eps));
  const r2 = div(mul(cov, g.op('Relu', [cov])), add(mul(varB, varI), eps)); // signed: anti-correlation is no agreement
  const textured = ramp(varB, s.textureVar[0], s.textureVar[1]);
  const agreeTextured = mul(mul(ramp(r2, s.agreeR2[0], s.agreeR2[1]), textured), ramp(slope, s.minSlope, s.minSlope + 0.1));

  // Decisive: over a plate flat compared with the subject's contrast, next to a subject that differs from the plate clearly, the
  // plate's own per-pixel verdict is reliable (a subject there would show), so in RVM's soft band
  // (its quarter-resolution halo, e.g. around hair over sky) the plate's edge stands. RVM's solid
  // interior stays: where the nearby subject is close to the plate's colour the plate cannot tell.
  const d2 = sumC(mul(sub(Is, Bn), sub(Is, Bn))); // (1, 1, h, w)
  const near = g.op('MaxPool', [g.op('Sqrt', [d2])], { kernel_shape: [2 * s.flatReach + 1, 2 * s.flatReach + 1], pads: Array(4).fill(s.flatReach) });
  const contrastRatio = div(near, g.op('Sqrt', [add(varB, f(1e-6))]));
  const decisive = mul(ramp(contrastRatio, s.flatRatio[0], s.flatRatio[1]), ramp(near, s.flatContrast[0], s.flatContrast[1]));
  if (spec.debug) {
    for (const [name, value] of Object.entries({ agreeTextured, decisive })) g.output(`debug_${name}`, value, 'float', [1, 1, h, w]);
  }

  // --- full resolution: plate alpha plus what RVM adds where the plate does not know better -----
  // trust = (1 - agree) * (1 - decisive * softRvm) = U - V * softRvm, with U and V at low resolution.
  // Resize in 'asymmetric' mode after a 2x2 pre-shift of each map; each map on its own (splitting a
  // 2-channel result would copy both). Measured since: this samples U and V one low-resolution
  // pixel right of and below a 'half_pixel' Resize (which is no slower in this onnxruntime), but
  // the thresholds were tuned with it: the plain 'half_pixel' Resize moved bench:quality slightly
  // the wrong way (disagreement object SAD 0.202 -> 0.205, capture-pair holes +0.01%), so it stays.
  const U = sub(f(1), agreeTextured);
  const V = mul(U, decisive);
  const up = (x: string, scale: number) => {
    let m = x;
    if (k > 1) {
      const t = (k - 1) / (2 * k);
      // The 2x2 shift as a weighted sum of shifted slices (a Conv here would pull the Resize into
      // onnxruntime's blocked layout, several times slower).
      const padded = g.op('Pad', [m, i64(0, 0, 0, 0, 0, 0, 1, 1)], { mode: 'edge' });
      const at = (dy: number, dx: number) => g.op('Slice', [padded, i64(dy, dx), i64(dy + h, dx + w), i64(2, 3)]);
      const wt = (v: number) => f(v * scale);
      m = add(add(mul(at(0, 0), wt(t * t)), mul(at(0, 1), wt(t * (1 - t)))), add(mul(at(1, 0), wt((1 - t) * t)), mul(at(1, 1), wt((1 - t) * (1 - t)))));
      m = g.op('Resize', [m, '', '', i64(1, 1, Hp, Wp)], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' });
    } else {
      m = mul(m, f(scale));
    }
    if (Hp !== H || Wp !== W) m = g.op('Slice', [m, i64(0, 0), i64(H, W), i64(2, 3)]);
    return g.op('Reshape', [m, i64(H, W)]);
  };
  // In 0..255 units. The prior's alpha, brought up to the frame's size when it ran smaller.
  let aR = g.op('Cast', [g.op('Reshape', [alphaRvm, i64(1, 1, ph, pw)])], { to: 1 });
  if (ph !== H || pw !== W) aR = g.op('Resize', [aR, '', '', i64(1, 1, H, W)], { mode: 'linear' });
  aR = g.op('Reshape', [aR, i64(H, W)]);
  const aP = g.op('Cast', [alphaPlate], { to: 1 });
  // What RVM adds, max(0, rvm - plate), counts in full only where RVM itself is fairly sure: its
  // faint values (a haze over thin strands, its low-resolution halo) only add error where the
  // plate already had its say. That ramp's slope is carried by U and V (low resolution, free) so
  // at full resolution it is an offset and a Clip.
  const [p0, p1] = s.priorFloor;
  const rampWidth = 255 * (p1 - p0);
  const gain = mul(g.op('Relu', [sub(aR, aP)]), g.op('Clip', [sub(aR, f(255 * p0)), f(0), f(rampWidth)]));
  const [s0, s1] = s.solidPrior;
  const softRvm = g.op('Clip', [add(mul(aR, f(-1 / (255 * (s1 - s0)))), f(s1 / (s1 - s0))), f(0), f(1)]);
  const trust = sub(up(U, 1 / rampWidth), mul(up(V, 1 / rampWidth), softRvm));
  const alpha255 = add(aP, mul(trust, gain));
  const alpha8 = g.op('QuantizeLinear', [alpha255, f(1), g.uint8(0)]);
  g.output('alpha', alpha8, 'uint8', [H, W]);

  if (spec.foreground) {
    // I = alpha F + (1 - alpha) B  =>  F = B + (I - B) / alpha, alpha bounded below. Planar (3, H*W)
    // so alpha broadcasts over the leading axis (over a trailing size-1 axis onnxruntime is many
    // times slower); uint8 transposes in and out are cheap. The Reshape after each Transpose keeps
    // onnxruntime's transpose optimiser from moving them past the float ops and cancelling them
    // (which turned this back into the slow broadcast and a per-pixel Concat: 3x the cost).
    const planar = (x: string) => {
      let chw = g.op('Transpose', [g.op('Reshape', [x, i64(H * W, C)])], { perm: [1, 0] });
      if (C === 4) chw = g.op('Slice', [chw, i64(0), i64(3), i64(0)]);
      return g.op('Reshape', [g.op('Cast', [chw], { to: 1 }), i64(3, H, W)]);
    };
    const If = planar(src);
    const Bf = planar(bgr);
    const alphaFlat = g.op('Reshape', [alpha255, i64(1, H, W)]);
    const inv = div(f(255), g.op('Clip', [alphaFlat, f(255 * s.minAlphaForeground), f(255)]));
    const F = add(Bf, mul(sub(If, Bf), inv));
    const F8 = g.op('QuantizeLinear', [F, f(1), g.uint8(0)]);
    const rgba = g.op('Reshape', [g.op('Concat', [F8, g.op('Reshape', [alpha8, i64(1, H, W)])], { axis: 0 }), i64(4, H * W)]); // (4, H*W)
    g.output('fgr', g.op('Reshape', [g.op('Transpose', [rgba], { perm: [1, 0] }), i64(H, W, 4)]), 'uint8', [H, W, 4]);
  }
  return g.toBytes(`fused model fusion ${W}x${H}x${C} k=${k}`);
}

/** The frame downscaled for the learned prior: uint8 (H, W, C) `src` -> (ph, pw, C) `small`
 * (bilinear with antialiasing, in uint8 and channels-last as onnxruntime resizes it directly). */
export function buildPriorInputGraph(width: number, height: number, channels: 3 | 4, priorWidth: number, priorHeight: number): Uint8Array {
  const g = new GraphBuilder('cleanplate_fused_prior_input');
  const src = g.input('src', 'uint8', [height, width, channels]);
  const x = g.op('Reshape', [src, g.int64([1, height, width, channels])]);
  const small = g.op('Resize', [x, '', '', g.int64([1, priorHeight, priorWidth, channels])], { mode: 'linear', antialias: 1 });
  g.output('small', g.op('Reshape', [small, g.int64([priorHeight, priorWidth, channels])]), 'uint8', [priorHeight, priorWidth, channels]);
  return g.toBytes(`fused model prior input ${width}x${height} -> ${priorWidth}x${priorHeight}`);
}
