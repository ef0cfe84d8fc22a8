// The cheap "did anything move?" check that lets a tripod shot skip alignment. A probe holds a
// few thousand textured points of a reference image (the plate, or the frame the last warp was
// estimated on) with their grey value and gradient. For a new frame, a robust least-squares fit
// of the linearised model
//     frame(x) ≈ a * ref(x) + b - ∇ref(x) · d(x),  d affine over the image,
// gives the sub-pixel motion d and the exposure change (a, b) in well under a millisecond; points
// on the subject disagree by far more than noise and are weighed out (Tukey). Only textured
// points are used: a shift of a flat area changes nothing, so it needs no alignment either.
import type { Frame } from '../frame.js';
import { medianAbs, NormalEquations } from './linear.js';

export interface Probe {
  readonly width: number;
  readonly height: number;
  /** Pixel offsets of the points (index y * width + x). */
  readonly index: Uint32Array;
  /** Coordinates scaled to -1..1 (the affine motion's basis). */
  readonly u: Float32Array;
  readonly v: Float32Array;
  readonly value: Float32Array;
  readonly gx: Float32Array;
  readonly gy: Float32Array;
}

export interface StaticCheck {
  /** The geometry moved by more than the tolerance, or too few points still agree. */
  readonly moved: boolean;
  /** The exposure changed noticeably (the gain/offset match should be refreshed). */
  readonly exposureChanged: boolean;
  /** Largest displacement of the image corners under the fitted motion, pixels. */
  readonly shiftPx: number;
  /** Share of probe points whose value agrees with the fit within noise. */
  readonly agreeing: number;
  readonly gain: number;
  readonly offset: number;
}

/** Points examined for texture, and kept at most. */
const CANDIDATES = 8000;
const MAX_POINTS = 2500;
/** Grey-level gradient (per pixel) below which a point carries no motion information. */
const MIN_GRADIENT = 3;
/**
 * Motion of the corners below this needs no re-alignment. The linearised fit reads fine textures'
 * motion short (about 0.6x at half a pixel), so the limit sits below the half pixel that matters.
 */
export const STATIC_SHIFT_PX = 0.25;
/** A point agrees when within this many grey levels of the fit (two images' noise). */
const AGREE_LEVELS = 10;
/** Fewer agreeing points than this share: something changed (a large motion, a new scene). */
const MIN_AGREEING = 0.5;

function grey(f: Frame, i: number): number {
  const j = i * f.channels;
  return (f.data[j]! + 2 * f.data[j + 1]! + f.data[j + 2]!) / 4;
}

export function buildProbe(ref: Frame): Probe {
  const { width: W, height: H } = ref;
  const step = Math.max(2, Math.round(Math.sqrt((W * H) / CANDIDATES)));
  const picked: number[][] = [];
  for (let y = step >> 1; y < H - 1; y += step) {
    for (let x = step >> 1; x < W - 1; x += step) {
      if (x < 1 || y < 1) continue;
      const i = y * W + x;
      const gx = (grey(ref, i + 1) - grey(ref, i - 1)) / 2;
      const gy = (grey(ref, i + W) - grey(ref, i - W)) / 2;
      if (Math.hypot(gx, gy) < MIN_GRADIENT) continue;
      picked.push([i, (2 * x) / (W - 1) - 1, (2 * y) / (H - 1) - 1, grey(ref, i), gx, gy]);
    }
  }
  const keep = picked.length > MAX_POINTS ? picked.filter((_, k) => k % Math.ceil(picked.length / MAX_POINTS) === 0) : picked;
  const col = (c: number) => Float32Array.from(keep, (p) => p[c]!);
  return { width: W, height: H, index: Uint32Array.from(keep, (p) => p[0]!), u: col(1), v: col(2), value: col(3), gx: col(4), gy: col(5) };
}

/** How the frame differs from the probe's reference: see StaticCheck. */
export function checkStatic(probe: Probe, frame: Frame): StaticCheck {
  if (frame.width !== probe.width || frame.height !== probe.height) throw new Error('frame and probe differ in size');
  const n = probe.index.length;
  if (n < 50) {
    // A featureless reference: no motion can be seen, and none can hurt the matte.
    return { moved: false, exposureChanged: false, shiftPx: 0, agreeing: 1, gain: 1, offset: 0 };
  }
  const { gx, gy, u, v, value } = probe;
  const f = new Float64Array(n);
  for (let k = 0; k < n; k++) f[k] = grey(frame, probe.index[k]!);
  // theta: a, b, then the motion terms (-dx0, -dx_u, -dx_v, -dy0, -dy_u, -dy_v).
  let theta = [1, 0, 0, 0, 0, 0, 0, 0];
  const r = new Float64Array(n);
  const row = new Array<number>(8);
  const residuals = (t: number[]): void => {
    for (let k = 0; k < n; k++) {
      const model = t[0]! * value[k]! + t[1]! + gx[k]! * (t[2]! + t[3]! * u[k]! + t[4]! * v[k]!) + gy[k]! * (t[5]! + t[6]! * u[k]! + t[7]! * v[k]!);
      r[k] = f[k]! - model;
    }
  };
  residuals(theta);
  for (let iter = 0; iter < 3; iter++) {
    const sigma = Math.max(2, 1.4826 * medianAbs(r));
    const c = 4.685 * sigma;
    const eq = new NormalEquations(8);
    for (let k = 0; k < n; k++) {
      const z = r[k]! / c;
      if (z >= 1 || z <= -1) continue;
      const w = (1 - z * z) ** 2;
      row[0] = value[k]!;
      row[1] = 1;
      row[2] = gx[k]!;
      row[3] = gx[k]! * u[k]!;
      row[4] = gx[k]! * v[k]!;
      row[5] = gy[k]!;
      row[6] = gy[k]! * u[k]!;
      row[7] = gy[k]! * v[k]!;
      eq.add(row, f[k]!, w);
    }
    const next = eq.solve();
    if (!next) break;
    theta = next;
    residuals(theta);
  }
  let agree = 0;
  for (let k = 0; k < n; k++) if (Math.abs(r[k]!) <= AGREE_LEVELS) agree++;
  let shift = 0;
  for (const [u, v] of [
    [-1, -1],
    [1, -1],
    [1, 1],
    [-1, 1],
  ] as const) {
    shift = Math.max(shift, Math.hypot(theta[2]! + theta[3]! * u + theta[4]! * v, theta[5]! + theta[6]! * u + theta[7]! * v));
  }
  const agreeing = agree / n;
  const gain = theta[0]!;
  const offset = theta[1]!;
  return {
    moved: !(shift <= STATIC_SHIFT_PX) || agreeing < MIN_AGREEING,
    exposureChanged: Math.abs(gain - 1) > 0.01 || Math.abs(offset + (gain - 1) * 128) > 1.5,
    shiftPx: shift,
    agreeing,
    gain,
    offset,
  };
}
