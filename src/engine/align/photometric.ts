// Photometric alignment: per-channel gain and offset that carry the plate's colours to the
// frame's (auto-exposure, white balance drift), fitted on pixels that are confidently background.
// The subject and misaligned edges disagree with the plate by far more than noise, so a trimmed,
// iterated least-squares fit on a sparse grid of samples leaves them out.
import type { Frame } from '../frame.js';
import { apply, invert, type Homography } from './homography.js';
import { medianAbs } from './linear.js';

export interface Photometric {
  readonly gain: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
}

export type PhotometricFit = { readonly ok: true; readonly photometric: Photometric; readonly samples: number; readonly inlierShare: number } | { readonly ok: false; readonly reason: string };

/** About this many samples are taken over the frame whatever its size. */
const TARGET_SAMPLES = 20_000;
/** Clipped values say nothing about the gain. */
const DARK = 4;
const BRIGHT = 250;
const MIN_GAIN = 0.5;
const MAX_GAIN = 2;

/** Bilinear sample of channel values at (x, y) into out; false outside the image. */
function sample(img: Frame, x: number, y: number, out: number[]): boolean {
  const { width: W, height: H, channels: C, data } = img;
  if (!(x >= 0 && y >= 0 && x <= W - 1 && y <= H - 1)) return false;
  const x0 = Math.min(Math.floor(x), W - 2);
  const y0 = Math.min(Math.floor(y), H - 2);
  const fx = x - x0;
  const fy = y - y0;
  const i00 = (y0 * W + x0) * C;
  const i01 = i00 + C;
  const i10 = i00 + W * C;
  const i11 = i10 + C;
  for (let c = 0; c < 3; c++) {
    const top = data[i00 + c]! + (data[i01 + c]! - data[i00 + c]!) * fx;
    const bottom = data[i10 + c]! + (data[i11 + c]! - data[i10 + c]!) * fx;
    out[c] = top + (bottom - top) * fy;
  }
  return true;
}

/**
 * Fits frame ≈ gain * plate + offset per channel, the plate seen through `warp` (plate -> frame;
 * identity when omitted). Samples the warp leaves uncovered are not used.
 */
export function fitPhotometric(plate: Frame, frame: Frame, warp?: Homography): PhotometricFit {
  const { width: W, height: H, channels: C } = frame;
  const step = Math.max(1, Math.round(Math.sqrt((W * H) / TARGET_SAMPLES)));
  const back = warp ? invert(warp) : undefined;
  const p: number[] = [];
  const f: number[] = [];
  const pv = [0, 0, 0];
  for (let y = step >> 1; y < H; y += step) {
    for (let x = step >> 1; x < W; x += step) {
      let ok: boolean;
      if (back) {
        const [px, py] = apply(back, x, y);
        ok = sample(plate, px, py, pv);
      } else {
        const i = (y * W + x) * plate.channels;
        pv[0] = plate.data[i]!;
        pv[1] = plate.data[i + 1]!;
        pv[2] = plate.data[i + 2]!;
        ok = true;
      }
      if (!ok) continue;
      const j = (y * W + x) * C;
      let clipped = false;
      for (let c = 0; c < 3; c++) {
        const fv = frame.data[j + c]!;
        if (fv <= DARK || fv >= BRIGHT || pv[c]! <= DARK || pv[c]! >= BRIGHT) clipped = true;
      }
      if (clipped) continue;
      p.push(pv[0]!, pv[1]!, pv[2]!);
      f.push(frame.data[j]!, frame.data[j + 1]!, frame.data[j + 2]!);
    }
  }
  const n = p.length / 3;
  if (n < 200) return { ok: false, reason: `too few unclipped background samples to match exposure (${n})` };

  let gain = [1, 1, 1];
  let offset = [0, 0, 0];
  const residual = new Float64Array(n);
  const use = new Uint8Array(n).fill(1);
  let used = n;
  for (let iter = 0; iter < 4; iter++) {
    // Residual of each sample under the current fit: the worst channel.
    for (let i = 0; i < n; i++) {
      let worst = 0;
      for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(f[3 * i + c]! - (gain[c]! * p[3 * i + c]! + offset[c]!)));
      residual[i] = worst;
    }
    // The first pass keeps the better half (the subject may cover much of the frame); later
    // passes keep what is within a few noise levels of the fit.
    const limit = iter === 0 ? medianAbs(residual) : Math.max(3, 3 * 1.4826 * medianAbs(residual.filter((_, i) => use[i] === 1)));
    used = 0;
    for (let i = 0; i < n; i++) {
      use[i] = residual[i]! <= limit ? 1 : 0;
      used += use[i]!;
    }
    if (used < 100) return { ok: false, reason: 'the frame and the plate agree on too few pixels to match exposure' };
    const next = [0, 0, 0];
    const nextOffset = [0, 0, 0];
    for (let c = 0; c < 3; c++) {
      let sp = 0;
      let sf = 0;
      let spp = 0;
      let spf = 0;
      for (let i = 0; i < n; i++) {
        if (!use[i]) continue;
        const a = p[3 * i + c]!;
        const b = f[3 * i + c]!;
        sp += a;
        sf += b;
        spp += a * a;
        spf += a * b;
      }
      const varP = spp - (sp * sp) / used;
      // A nearly flat channel cannot separate gain from offset: match the mean only.
      const g = varP > used * 4 ? (spf - (sp * sf) / used) / varP : 1;
      next[c] = g;
      nextOffset[c] = (sf - g * sp) / used;
    }
    gain = next;
    offset = nextOffset;
  }
  if (!gain.every((g) => g > MIN_GAIN && g < MAX_GAIN)) {
    return { ok: false, reason: `the frame's exposure differs from the plate's too much to match (gain ${gain.map((g) => g.toFixed(2)).join('/')})` };
  }
  return {
    ok: true,
    photometric: { gain: [gain[0]!, gain[1]!, gain[2]!], offset: [offset[0]!, offset[1]!, offset[2]!] },
    samples: n,
    inlierShare: used / n,
  };
}

/** Whether applying the correction changes any mid-range value by a level or more. */
export function isNoticeable(ph: Photometric): boolean {
  for (let c = 0; c < 3; c++) {
    for (const v of [32, 128, 224]) if (Math.abs(ph.gain[c]! * v + ph.offset[c]! - v) >= 1) return true;
  }
  return false;
}

/** A lookup table per channel (channels x 256, alpha left as is) applying the correction. */
export function photometricTable(ph: Photometric, channels: 3 | 4): Uint8Array {
  const lut = new Uint8Array(256 * channels);
  for (let v = 0; v < 256; v++) {
    for (let c = 0; c < channels; c++) {
      const mapped = c < 3 ? ph.gain[c]! * v + ph.offset[c]! : v;
      lut[v * channels + c] = Math.round(Math.min(255, Math.max(0, mapped)));
    }
  }
  return lut;
}
