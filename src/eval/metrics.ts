// Matte quality metrics (as in the BGMv2 paper) and the naive difference-key baseline.
import type { Frame, Plane } from '../engine/matting/types.js';

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
