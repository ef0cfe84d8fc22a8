// Plate alignment on generated pairs whose camera motion and exposure change are known: the
// textured scene is rendered exactly where the homography puts it, so the truth is exact.
import { describe, expect, it } from 'vitest';
import { PlateAligner } from '../../src/engine/align/aligner.js';
import { estimateHomography } from '../../src/engine/align/estimate.js';
import { apply, compose, IDENTITY, invert, isPlausible, maxDisplacement, rescale, uncoveredFraction, type Homography } from '../../src/engine/align/homography.js';
import { openCv } from '../../src/engine/align/opencv.js';
import { fitPhotometric } from '../../src/engine/align/photometric.js';
import { WarpSmoother } from '../../src/engine/align/smoothing.js';
import { buildProbe, checkStatic } from '../../src/engine/align/static-check.js';
import { renderAlignedPlate } from '../../src/engine/align/warp.js';
import { makeAlignPair } from '../../src/eval/align-pairs.js';

const W = 640;
const H = 360;

/** Rotation by `deg` and scale `s` about the image centre, then a shift. */
function similarity(deg: number, s: number, tx: number, ty: number): Homography {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a) * s;
  const si = Math.sin(a) * s;
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  return [c, -si, cx - c * cx + si * cy + tx, si, c, cy - si * cx - c * cy + ty, 0, 0, 1];
}

describe('homography helpers', () => {
  it('invert and compose undo each other; rescale maps between image sizes', () => {
    const h: Homography = [1.02, 0.01, 5, -0.02, 0.98, -3, 1e-5, -2e-5, 1];
    expect(maxDisplacement(compose(h, invert(h)), IDENTITY, W, H)).toBeLessThan(1e-9);
    // A shift of 4 px found on a half-size image is a shift of 8 px at full size.
    const full = rescale([1, 0, 4, 0, 1, -2, 0, 0, 1], 0.5);
    expect(apply(full, 100, 100)[0]).toBeCloseTo(108, 9);
    expect(apply(full, 100, 100)[1]).toBeCloseTo(96, 9);
  });

  it('measures the uncovered share of the frame and refuses folded or absurd warps', () => {
    expect(uncoveredFraction([1, 0, 64, 0, 1, 0, 0, 0, 1], W, H)).toBeCloseTo(0.1, 6);
    expect(uncoveredFraction([1, 0, -64, 0, 1, 36, 0, 0, 1], W, H)).toBeCloseTo(1 - 0.9 * 0.9, 6);
    expect(uncoveredFraction(IDENTITY, W, H)).toBe(0);
    expect(isPlausible(similarity(2, 1.03, 10, -5), W, H)).toBe(true);
    expect(isPlausible([-1, 0, W, 0, 1, 0, 0, 0, 1], W, H)).toBe(false); // mirrored
    expect(isPlausible([3, 0, 0, 0, 3, 0, 0, 0, 1], W, H)).toBe(false); // 9x the area
  });
});

describe('geometric and photometric alignment on pairs of known motion', () => {
  const cases: [string, Homography][] = [
    ['shift', [1, 0, 12.3, 0, 1, -7.6, 0, 0, 1]],
    ['small rotation', similarity(1.5, 1, 3, 2)],
    ['scale (focus breathing)', similarity(0, 1.04, -2, 1)],
    ['perspective', [1.01, 0.02, 5, -0.01, 0.99, -4, 2e-5, -3e-5, 1]],
  ];
  for (const [name, warp] of cases) {
    it(`${name}: warp within 0.5 px over the frame, gain within 2%`, async () => {
      const gain = [1.07, 1.04, 0.96] as const;
      const pair = makeAlignPair({ width: W, height: H, warp, gain, offset: [-3, 2, 4], noise: 1.5 });
      const estimate = await estimateHomography(pair.plate, pair.frame);
      if (!estimate.ok) throw new Error(estimate.reason);
      expect(maxDisplacement(estimate.warp, warp, W, H)).toBeLessThanOrEqual(0.5);

      const fit = fitPhotometric(pair.plate, pair.frame, estimate.warp);
      if (!fit.ok) throw new Error(fit.reason);
      for (let c = 0; c < 3; c++) expect(Math.abs(fit.photometric.gain[c]! / gain[c]! - 1)).toBeLessThan(0.02);
      // The subject (a fifth of the frame) is left out of the fit.
      expect(fit.inlierShare).toBeLessThan(0.95);

      const aligner = new PlateAligner(pair.plate, { mode: 'auto' });
      const aligned = await aligner.plateFor(pair.frame);
      const report = aligner.report();
      expect(report).toMatchObject({ frames: 1, framesEstimated: 1, framesAligned: 1, framesWarped: 1, framesExposureMatched: 1, warnings: [] });
      expect(report.meanShiftPx).toBeGreaterThan(1);
      // The aligned plate agrees with the frame's background where the plain plate did not.
      expect(backgroundError(aligned, pair)).toBeLessThan(0.25 * backgroundError(pair.plate, pair));
      expect(backgroundError(aligned, pair)).toBeLessThan(4);
    });
  }
});

/** Mean absolute difference (levels) between a plate and the frame where the frame is background. */
function backgroundError(plate: { data: Uint8Array }, pair: ReturnType<typeof makeAlignPair>): number {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < pair.alpha.length; i++) {
    if (pair.alpha[i]! > 0) continue;
    for (let c = 0; c < 3; c++) sum += Math.abs(plate.data[3 * i + c]! - pair.frame.data[3 * i + c]!);
    n += 3;
  }
  return sum / n;
}

describe('static camera', () => {
  it('a static pair: identity, the same plate object, and no estimate run', async () => {
    const pair = makeAlignPair({ width: W, height: H, noise: 2 });
    const aligner = new PlateAligner(pair.plate, { mode: 'auto' });
    expect(await aligner.plateFor(pair.frame)).toBe(pair.plate);
    expect(aligner.report()).toMatchObject({ frames: 1, framesEstimated: 0, framesAligned: 0, framesWarped: 0, meanShiftPx: 0, warnings: [] });
  });

  it('a static pair with an exposure change: gain matched, still no estimate', async () => {
    const pair = makeAlignPair({ width: W, height: H, gain: [1.06, 1.05, 1.03], noise: 1.5 });
    const aligner = new PlateAligner(pair.plate, { mode: 'auto' });
    const plate = await aligner.plateFor(pair.frame);
    const report = aligner.report();
    expect(report).toMatchObject({ framesEstimated: 0, framesAligned: 1, framesWarped: 0, framesExposureMatched: 1 });
    expect(report.gain![0]).toBeCloseTo(1.06, 1);
    expect(Math.abs(report.gain![0]! / 1.06 - 1)).toBeLessThan(0.02);
    expect(backgroundError(plate, pair)).toBeLessThan(2.5);
  });

  it('align on estimates even a static pair, and finds identity', async () => {
    const pair = makeAlignPair({ width: W, height: H, noise: 1.5 });
    const estimate = await estimateHomography(pair.plate, pair.frame);
    if (!estimate.ok) throw new Error(estimate.reason);
    expect(maxDisplacement(estimate.warp, IDENTITY, W, H)).toBeLessThan(0.3);
    const aligner = new PlateAligner(pair.plate, { mode: 'on' });
    expect(await aligner.plateFor(pair.frame)).toBe(pair.plate);
    expect(aligner.report()).toMatchObject({ framesEstimated: 1, framesWarped: 0 });
  });

  it('align off hands back the plate untouched', async () => {
    const pair = makeAlignPair({ width: 160, height: 90, warp: [1, 0, 5, 0, 1, 0, 0, 0, 1] });
    const aligner = new PlateAligner(pair.plate, { mode: 'off' });
    expect(await aligner.plateFor(pair.frame)).toBe(pair.plate);
    expect(aligner.report()).toMatchObject({ mode: 'off', frames: 1, framesEstimated: 0, framesAligned: 0 });
  });

  it('the static check sees half a pixel of motion, not a tenth, and ignores the subject', () => {
    const still = makeAlignPair({ width: W, height: H, subject: false, noise: 1.5 });
    const probe = buildProbe(still.plate);
    const withSubject = makeAlignPair({ width: W, height: H, noise: 1.5 });
    expect(checkStatic(probe, withSubject.frame)).toMatchObject({ moved: false, exposureChanged: false });
    const tenth = makeAlignPair({ width: W, height: H, subject: false, warp: [1, 0, 0.1, 0, 1, 0, 0, 0, 1], noise: 1.5 });
    expect(checkStatic(buildProbe(tenth.plate), tenth.frame).moved).toBe(false);
    const half = makeAlignPair({ width: W, height: H, warp: [1, 0, 0.6, 0, 1, 0, 0, 0, 1], noise: 1.5 });
    const check = checkStatic(buildProbe(half.plate), half.frame);
    expect(check.moved).toBe(true);
    expect(check.shiftPx).toBeGreaterThan(0.3);
    expect(check.shiftPx).toBeLessThan(0.8);
    const far = makeAlignPair({ width: W, height: H, warp: [1, 0, 20, 0, 1, 10, 0, 0, 1], noise: 1.5 });
    expect(checkStatic(buildProbe(far.plate), far.frame).moved).toBe(true);
  });
});

describe('frames that share nothing with the plate', () => {
  it('warn and leave the plate as it is instead of forcing a warp', async () => {
    const pair = makeAlignPair({ width: W, height: H, unrelated: true, noise: 1.5 });
    const estimate = await estimateHomography(pair.plate, pair.frame);
    expect(estimate.ok).toBe(false);
    const aligner = new PlateAligner(pair.plate, { mode: 'auto' });
    expect(await aligner.plateFor(pair.frame)).toBe(pair.plate);
    const report = aligner.report();
    expect(report.framesEstimated).toBe(1);
    expect(report.framesAligned).toBe(0);
    expect(report.warnings).toHaveLength(1);
    expect(report.warnings[0]).toMatch(/too little in common.*plate was used as given/);
  });

  it('a featureless plate says there is too little texture', async () => {
    const flat = { data: new Uint8Array(W * H * 3).fill(120), width: W, height: H, channels: 3 as const };
    const pair = makeAlignPair({ width: W, height: H });
    const estimate = await estimateHomography(flat, pair.frame);
    expect(estimate).toMatchObject({ ok: false });
    if (!estimate.ok) expect(estimate.reason).toMatch(/too little texture/);
  });
});

describe('video', () => {
  it('a tripod sequence estimates nothing and hands the same plate object every frame', async () => {
    const pair = makeAlignPair({ width: 320, height: 180, noise: 1.5 });
    const aligner = new PlateAligner(pair.plate, { mode: 'auto', video: true });
    for (let i = 0; i < 5; i++) expect(await aligner.plateFor(pair.frame)).toBe(pair.plate);
    expect(aligner.report()).toMatchObject({ frames: 5, framesEstimated: 0, framesAligned: 0 });
  });

  it('a camera nudged mid-shot is re-estimated once, then the aligned plate is reused', async () => {
    const still = makeAlignPair({ width: W, height: H, noise: 1.5 });
    const nudge: Homography = [1, 0, 6.5, 0, 1, -3.2, 0, 0, 1];
    const nudged = makeAlignPair({ width: W, height: H, warp: nudge, noise: 1.5 });
    // Same seed, same plate: the nudged frame sees the scene through the moved camera.
    const aligner = new PlateAligner(still.plate, { mode: 'auto', video: true });
    expect(await aligner.plateFor(still.frame)).toBe(still.plate);
    const first = await aligner.plateFor(nudged.frame);
    expect(first).not.toBe(still.plate);
    expect(await aligner.plateFor(nudged.frame)).toBe(first);
    const report = aligner.report();
    expect(report).toMatchObject({ frames: 3, framesEstimated: 1, framesWarped: 2 });
    expect(report.meanShiftPx).toBeGreaterThan(6);
    expect(report.meanShiftPx).toBeLessThan(8);
    expect(report.maxUncoveredFraction).toBeGreaterThan(0.01);
  });

  it('the next frame of a shot is tracked from the last warp; a useless prior falls back to matching', async () => {
    const truth: Homography = [1, 0, 9.4, 0, 1, -4.1, 0, 0, 1];
    const pair = makeAlignPair({ width: W, height: H, warp: truth, noise: 1.5 });
    // The previous frame's warp, 3 px off from this frame's.
    const tracked = await estimateHomography(pair.plate, pair.frame, { prior: [1, 0, 6.5, 0, 1, -2.8, 0, 0, 1] });
    expect(tracked).toMatchObject({ ok: true, tracked: true });
    if (tracked.ok) expect(maxDisplacement(tracked.warp, truth, W, H)).toBeLessThanOrEqual(0.5);
    const rescued = await estimateHomography(pair.plate, pair.frame, { prior: [1, 0, 150, 0, 1, 90, 0, 0, 1] });
    expect(rescued).toMatchObject({ ok: true, tracked: false });
    if (rescued.ok) expect(maxDisplacement(rescued.warp, truth, W, H)).toBeLessThanOrEqual(0.5);
  });

  it('smoothing blends sub-pixel jitter and follows real motion at once', () => {
    const smoother = new WarpSmoother(W, H);
    const a = smoother.next([1, 0, 10, 0, 1, 0, 0, 0, 1]);
    expect(apply(a, 0, 0)[0]).toBeCloseTo(10, 6);
    const b = smoother.next([1, 0, 10.4, 0, 1, 0, 0, 0, 1]);
    expect(apply(b, 0, 0)[0]).toBeCloseTo(10.2, 6);
    const c = smoother.next([1, 0, 25, 0, 1, 0, 0, 0, 1]);
    expect(apply(c, 0, 0)[0]).toBeCloseTo(25, 6);
  });
});

describe('warp and OpenCV loading', () => {
  it('fills the uncovered border from the frame, so the model sees no difference there', async () => {
    const pair = makeAlignPair({ width: 160, height: 90, subject: false });
    const shift: Homography = [1, 0, 8, 0, 1, 0, 0, 0, 1];
    const out = await renderAlignedPlate(pair.plate, pair.frame, shift, undefined);
    for (let y = 0; y < 90; y++) {
      for (let x = 0; x < 7; x++) {
        const i = (y * 160 + x) * 3;
        expect([...out.data.subarray(i, i + 3)]).toEqual([...pair.frame.data.subarray(i, i + 3)]);
      }
      // Inside, the plate moved 8 px right.
      const i = (y * 160 + 100) * 3;
      expect([...out.data.subarray(i, i + 3)]).toEqual([...pair.plate.data.subarray(i - 24, i - 21)]);
    }
  });

  it('leaves no process-wide handlers behind', async () => {
    const before = [process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')];
    const cv = await openCv();
    expect(typeof cv.findHomography).toBe('function');
    expect([process.listenerCount('unhandledRejection'), process.listenerCount('uncaughtException')]).toEqual(before);
  });
});
