// Matte quality metrics (as in the BGMv2 paper) and the naive difference-key baseline.
import type { Frame, Plane } from '../engine/frame.js';
import { convolveSeparable, type FloatPlane } from './filters.js';

/** Sum of absolute alpha differences, in thousands (the paper's SAD unit). */
export function sad(pred: Plane, truth: Float32Array): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) s += Math.abs(pred.data[i]! / 255 - truth[i]!);
  return s / 1000;
}

/** Mean squared alpha error, x1e3. */
export function mse(pred: Plane, truth: Float32Array): number {
  let s = 0;
  for (let i = 0; i < truth.length; i++) {
    const d = pred.data[i]! / 255 - truth[i]!;
    s += d * d;
  }
  return (s / truth.length) * 1e3;
}

/** Foreground colour MSE (x1e3) over pixels where the true alpha is above zero. */
export function foregroundMse(pred: Frame, truthFg: Float32Array, truthAlpha: Float32Array): number {
  let s = 0;
  let n = 0;
  for (let i = 0; i < truthAlpha.length; i++) {
    if (truthAlpha[i]! <= 0) continue;
    for (let c = 0; c < 3; c++) {
      const d = pred.data[i * pred.channels + c]! / 255 - truthFg[i * 3 + c]!;
      s += d * d;
    }
    n += 3;
  }
  return n === 0 ? 0 : (s / n) * 1e3;
}

/** Naive difference key: alpha = 1 where the largest channel difference exceeds `threshold` (levels). */
export function naiveKey(frame: Frame, plate: Frame, threshold: number): Plane {
  const n = frame.width * frame.height;
  const out = new Uint8Array(n);
  const c = frame.channels;
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(frame.data[i * c + k]! - plate.data[i * c + k]!));
    out[i] = m > threshold ? 255 : 0;
  }
  return { data: out, width: frame.width, height: frame.height };
}

/** The naive key given its best single threshold for this image (an oracle the real world lacks). */
export function oracleNaiveKey(frame: Frame, plate: Frame, truth: Float32Array): { threshold: number; sad: number; alpha: Plane } {
  // SAD as a function of the threshold, from one histogram pass: for each max-difference level,
  // the summed error if those pixels are keyed as 1 versus 0.
  const n = frame.width * frame.height;
  const c = frame.channels;
  const errIfOne = new Float64Array(256);
  const errIfZero = new Float64Array(256);
  for (let i = 0; i < n; i++) {
    let m = 0;
    for (let k = 0; k < 3; k++) m = Math.max(m, Math.abs(frame.data[i * c + k]! - plate.data[i * c + k]!));
    errIfOne[m] = errIfOne[m]! + 1 - truth[i]!;
    errIfZero[m] = errIfZero[m]! + truth[i]!;
  }
  // Threshold t keys levels > t as 1.
  let best = { threshold: 0, sad: Infinity };
  let below = 0; // sum of errIfZero for levels <= t
  let above = errIfOne.reduce((a, b) => a + b, 0); // sum of errIfOne for levels > t
  for (let t = 0; t < 256; t++) {
    below += errIfZero[t]!;
    above -= errIfOne[t]!;
    const total = (below + above) / 1000;
    if (total < best.sad) best = { threshold: t, sad: total };
  }
  return { ...best, alpha: naiveKey(frame, plate, best.threshold) };
}

/**
 * Gaussian and first-derivative-of-Gaussian taps for the gradient error (Rhemann et al. 2009):
 * radius where the Gaussian falls to 1% of its peak density, each scaled to unit L2 norm (so the
 * 2-D derivative filter, their outer product, has unit norm as in the published evaluation code).
 */
export function gradientKernels(sigma: number): { gauss: Float64Array; deriv: Float64Array } {
  const epsilon = 1e-2;
  const r = Math.ceil(sigma * Math.sqrt(-2 * Math.log(Math.sqrt(2 * Math.PI) * sigma * epsilon)));
  const gauss = new Float64Array(2 * r + 1);
  const deriv = new Float64Array(2 * r + 1);
  for (let i = -r; i <= r; i++) {
    const g = Math.exp(-(i * i) / (2 * sigma * sigma));
    gauss[i + r] = g;
    deriv[i + r] = (-i / (sigma * sigma)) * g;
  }
  const unit = (k: Float64Array) => {
    const norm = Math.sqrt(k.reduce((s, v) => s + v * v, 0));
    return k.map((v) => v / norm);
  };
  return { gauss: unit(gauss), deriv: unit(deriv) };
}

function gradientMagnitude(p: FloatPlane, sigma: number): Float32Array {
  const { gauss, deriv } = gradientKernels(sigma);
  const gx = convolveSeparable(p, deriv, gauss).data;
  const gy = convolveSeparable(p, gauss, deriv).data;
  return gx.map((x, i) => Math.hypot(x, gy[i]!));
}

/**
 * Gradient error, /1000: the summed squared difference of the Gaussian-derivative gradient
 * magnitudes (sigma 1.4) of predicted and true alpha in 0..1, over the whole image.
 */
export function gradientError(pred: Plane, truth: Float32Array, sigma = 1.4): number {
  const { width, height } = pred;
  const p = gradientMagnitude({ data: Float32Array.from(pred.data, (v) => v / 255), width, height }, sigma);
  const t = gradientMagnitude({ data: truth, width, height }, sigma);
  let s = 0;
  for (let i = 0; i < p.length; i++) s += (p[i]! - t[i]!) ** 2;
  return s / 1000;
}

/** Marks the largest 4-connected component of `mask` with 1 in `out` (all 0 when the mask is empty). */
function largestComponent(mask: Uint8Array, width: number, out: Uint8Array): void {
  const label = new Int32Array(mask.length);
  const stack = new Int32Array(mask.length);
  let best = 0;
  let bestSize = 0;
  let next = 0;
  for (let seed = 0; seed < mask.length; seed++) {
    if (!mask[seed] || label[seed]) continue;
    const id = ++next;
    let top = 0;
    let size = 0;
    stack[top++] = seed;
    label[seed] = id;
    while (top > 0) {
      const i = stack[--top]!;
      size++;
      const x = i % width;
      // The four neighbours that exist (no wrap across rows).
      for (let d = 0; d < 4; d++) {
        const j = d === 0 ? (x > 0 ? i - 1 : -1) : d === 1 ? (x < width - 1 ? i + 1 : -1) : d === 2 ? i - width : i + width;
        if (j >= 0 && j < mask.length && mask[j] && !label[j]) {
          label[j] = id;
          stack[top++] = j;
        }
      }
    }
    if (size > bestSize) {
      bestSize = size;
      best = id;
    }
  }
  for (let i = 0; i < mask.length; i++) out[i] = best !== 0 && label[i] === best ? 1 : 0;
}

/**
 * Connectivity error, /1000 (Rhemann et al. 2009), over the whole image. For thresholds t = step,
 * 2 step, ..., 1 the source region is the largest 4-connected component where both alphas are >= t;
 * a pixel's level l is the last threshold before it first falls outside that region (1 if never).
 * With d = alpha - l, its degree of connectivity is 1 - d where d >= 0.15, else 1; the error sums
 * |phi(pred) - phi(truth)|.
 */
export function connectivityError(pred: Plane, truth: Float32Array, step = 0.1): number {
  const { width, height } = pred;
  const n = width * height;
  const p = Float32Array.from(pred.data, (v) => v / 255);
  const level = new Float32Array(n).fill(-1);
  const mask = new Uint8Array(n);
  const omega = new Uint8Array(n);
  const steps = Math.round(1 / step);
  // Alphas stored as float32 (0.9f < 0.9) must still count as reaching the threshold.
  const tolerance = 1e-6;
  for (let k = 1; k <= steps; k++) {
    const t = k * step - tolerance;
    for (let i = 0; i < n; i++) mask[i] = p[i]! >= t && truth[i]! >= t ? 1 : 0;
    largestComponent(mask, width, omega);
    const previous = (k - 1) * step;
    for (let i = 0; i < n; i++) if (level[i] === -1 && !omega[i]) level[i] = previous;
  }
  let s = 0;
  for (let i = 0; i < n; i++) {
    const l = level[i] === -1 ? 1 : level[i]!;
    const dp = p[i]! - l;
    const dt = truth[i]! - l;
    const phiP = dp >= 0.15 ? 1 - dp : 1;
    const phiT = dt >= 0.15 ? 1 - dt : 1;
    s += Math.abs(phiP - phiT);
  }
  return s / 1000;
}
