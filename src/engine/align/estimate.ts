// Geometric alignment: the homography that carries the plate onto the frame, from ORB features
// matched between the two and a robust fit (OpenCV's MAGSAC++) that throws out matches on the
// subject (they have no true partner in the plate) and other mismatches. Works on grey images
// scaled to at most `maxSide` pixels; the plate's features are computed once per plate.
import type { Frame } from '../frame.js';
import { apply, fromArray, isPlausible, rescale, type Homography } from './homography.js';
import { openCv, withMats, type CvMat, type OpenCv } from './opencv.js';

export interface EstimateOptions {
  /** Long side of the images features are found on (default 960: 1080p works at half size). */
  readonly maxSide?: number;
  /** ORB features kept per image (default 1500). */
  readonly features?: number;
  /**
   * The warp found on the previous frame of the same shot. The plate's features are then tracked
   * from where it puts them (pyramidal Lucas-Kanade) instead of being matched afresh, which skips
   * the frame's feature detection and matching; when tracking finds too little, matching runs.
   */
  readonly prior?: Homography;
}

export interface EstimateTimings {
  readonly plateFeaturesMs: number;
  readonly frameFeaturesMs: number;
  readonly matchMs: number;
  readonly fitMs: number;
}

interface EstimateCommon {
  /** True when the warp came from tracking from the prior rather than from feature matching. */
  readonly tracked: boolean;
  /** Matches that passed the ratio test, and those the robust fit kept. */
  readonly matches: number;
  readonly inliers: number;
  readonly timings: EstimateTimings;
}

export type GeometricEstimate = (EstimateCommon & { readonly ok: true; readonly warp: Homography }) | (EstimateCommon & { readonly ok: false; readonly reason: string });

interface Features {
  /** Keypoint positions at the working scale, x0 y0 x1 y1 ... */
  readonly points: Float32Array;
  /** ORB descriptors, 32 bytes per keypoint. */
  readonly descriptors: Uint8Array;
  readonly count: number;
}

/** A grey image at the refinement scale. */
interface Grey {
  readonly data: Uint8Array;
  readonly width: number;
  readonly height: number;
}

interface Prepared {
  readonly features: Features;
  readonly grey: Grey;
}

type Keep = <M extends { delete(): void }>(m: M) => M;

/** Fewer good matches than this, or a smaller share of inliers, means the images share too little. */
const MIN_INLIERS = 20;
const MIN_INLIER_SHARE = 0.2;
/** Lowe's ratio test: the best match must clearly beat the second best. */
const RATIO = 0.8;
/** Reprojection threshold of the robust fit, in working-scale pixels. */
const FIT_THRESHOLD = 2;
/** Inliers tracked to sub-pixel precision at the refinement scale (more cost little and add nothing). */
const REFINE_POINTS = 400;

const plateCache = new WeakMap<Uint8Array, { key: string; prepared: Prepared; ms: number }>();

export function workingScale(width: number, height: number, maxSide: number): number {
  return Math.min(1, maxSide / Math.max(width, height));
}

function resized(cv: OpenCv, src: CvMat, width: number, height: number, scale: number, keep: Keep): CvMat {
  if (scale === 1) return src;
  const out = keep(new cv.Mat());
  cv.resize(src, out, new cv.Size(Math.round(width * scale), Math.round(height * scale)), 0, 0, cv.INTER_AREA);
  return out;
}

/** ORB features at the working scale and the grey image at the refinement scale. */
function prepare(cv: OpenCv, frame: Frame, scale: number, refineScale: number, count: number, withFeatures = true): Prepared {
  return withMats(cv, 'feature detection', (keep) => {
    const rgb = keep(new cv.Mat(frame.height, frame.width, frame.channels === 4 ? cv.CV_8UC4 : cv.CV_8UC3));
    rgb.data.set(frame.data);
    const g = keep(new cv.Mat());
    cv.cvtColor(rgb, g, frame.channels === 4 ? cv.COLOR_RGBA2GRAY : cv.COLOR_RGB2GRAY);
    const fine = resized(cv, g, frame.width, frame.height, refineScale, keep);
    const grey = { data: fine.data.slice(), width: fine.cols, height: fine.rows };
    if (!withFeatures) return { features: { points: new Float32Array(0), descriptors: new Uint8Array(0), count: 0 }, grey };
    const small = resized(cv, g, frame.width, frame.height, scale, keep);
    // A lower FAST threshold than ORB's default 20 keeps features on soft, low-contrast scenes.
    const orb = keep(new cv.ORB(count, 1.2, 6, 31, 0, 2, 0, 31, 10));
    const kps = keep(new cv.KeyPointVector());
    const desc = keep(new cv.Mat());
    orb.detectAndCompute(small, keep(new cv.Mat()), kps, desc);
    const n = kps.size();
    const points = new Float32Array(2 * n);
    for (let i = 0; i < n; i++) {
      const { pt } = kps.get(i);
      points[2 * i] = pt.x;
      points[2 * i + 1] = pt.y;
    }
    return {
      features: { points, descriptors: n > 0 ? desc.data.slice(0, n * 32) : new Uint8Array(0), count: n },
      grey,
    };
  });
}

function greyMat(cv: OpenCv, g: Grey, keep: Keep): CvMat {
  const m = keep(new cv.Mat(g.height, g.width, cv.CV_8UC1));
  m.data.set(g.data);
  return m;
}

function descriptorMat(cv: OpenCv, f: Features, keep: Keep): CvMat {
  const m = keep(new cv.Mat(f.count, 32, cv.CV_8UC1));
  m.data.set(f.descriptors);
  return m;
}

/** Robust homography from point pairs (x0 y0 x1 y1 ...); the inlier mask comes back too. */
function robustFit(cv: OpenCv, from: ArrayLike<number>, to: ArrayLike<number>, threshold: number): { h: number[] | undefined; inlier: Uint8Array } {
  const n = from.length / 2;
  return withMats(cv, 'homography fit', (keep) => {
    const mask = keep(new cv.Mat());
    const h = keep(cv.findHomography(keep(cv.matFromArray(n, 1, cv.CV_32FC2, from)), keep(cv.matFromArray(n, 1, cv.CV_32FC2, to)), cv.USAC_MAGSAC, threshold, mask, 2000, 0.999));
    const inlier = mask.rows === n ? mask.data.slice(0, n) : new Uint8Array(n);
    return { h: h.rows === 3 && h.cols === 3 ? Array.from(h.data64F) : undefined, inlier };
  });
}

/**
 * Features sit on the pixel grid of a reduced image, which limits the fit to about half a pixel
 * at full size. Tracking the inliers with pyramidal Lucas-Kanade at the refinement scale, from
 * where the coarse warp predicts them, gives sub-pixel pairs for a second, tighter fit.
 */
interface Tracking {
  /** Pyramid levels above the refinement scale: 1 polishes a good guess, 3 follows a moving camera. */
  readonly levels: number;
  /** A track further than this (refinement-scale pixels) from its prediction is dropped. */
  readonly maxDeviation: number;
}

const POLISH: Tracking = { levels: 1, maxDeviation: 3 };
const FOLLOW: Tracking = { levels: 3, maxDeviation: 60 };

function refine(cv: OpenCv, plate: Grey, frame: Grey, refineScale: number, coarse: Homography, platePoints: number[], tracking: Tracking = POLISH): { warp: Homography; inliers: number } | undefined {
  const step = Math.max(1, Math.floor(platePoints.length / 2 / REFINE_POINTS));
  const from: number[] = [];
  const guess: number[] = [];
  const toFine = (v: number): number => refineScale * (v + 0.5) - 0.5;
  for (let i = 0; i < platePoints.length / 2; i += step) {
    const x = platePoints[2 * i]!;
    const y = platePoints[2 * i + 1]!;
    const [fx, fy] = apply(coarse, x, y);
    from.push(toFine(x), toFine(y));
    guess.push(toFine(fx), toFine(fy));
  }
  const n = from.length / 2;
  const tracked = withMats(cv, 'sub-pixel refinement', (keep) => {
    const prevPts = keep(cv.matFromArray(n, 1, cv.CV_32FC2, from));
    const nextPts = keep(cv.matFromArray(n, 1, cv.CV_32FC2, guess));
    const status = keep(new cv.Mat());
    const err = keep(new cv.Mat());
    const criteria = new cv.TermCriteria(cv.TermCriteria_COUNT + cv.TermCriteria_EPS, 20, 0.01);
    cv.calcOpticalFlowPyrLK(greyMat(cv, plate, keep), greyMat(cv, frame, keep), prevPts, nextPts, status, err, new cv.Size(21, 21), tracking.levels, criteria, cv.OPTFLOW_USE_INITIAL_FLOW);
    const src: number[] = [];
    const dst: number[] = [];
    const out = nextPts.data32F;
    for (let i = 0; i < n; i++) {
      const dx = out[2 * i]! - guess[2 * i]!;
      const dy = out[2 * i + 1]! - guess[2 * i + 1]!;
      // A track that wandered off its prediction found something else (the subject, a repeat).
      if (status.data[i] && Math.hypot(dx, dy) < tracking.maxDeviation) {
        src.push(from[2 * i]!, from[2 * i + 1]!);
        dst.push(out[2 * i]!, out[2 * i + 1]!);
      }
    }
    return { src, dst };
  });
  if (tracked.src.length / 2 < MIN_INLIERS) return undefined;
  const fit = robustFit(cv, tracked.src, tracked.dst, 1);
  const inliers = fit.inlier.reduce((a, b) => a + (b ? 1 : 0), 0);
  // Following from a prior, most tracks must agree: otherwise the prior was off and matching decides.
  if (!fit.h || inliers < MIN_INLIERS || (tracking === FOLLOW && inliers < 0.5 * n)) return undefined;
  return { warp: rescale(fromArray(fit.h), refineScale), inliers };
}

/**
 * Estimates where the plate's pixels are in the frame. Not ok (with a reason) when the two share
 * too little to tell: too few features, too few consistent matches, or an implausible warp.
 */
export async function estimateHomography(plate: Frame, frame: Frame, options: EstimateOptions = {}): Promise<GeometricEstimate> {
  if (plate.width !== frame.width || plate.height !== frame.height) throw new Error('plate and frame differ in size');
  const cv = await openCv();
  const maxSide = options.maxSide ?? 960;
  const count = options.features ?? 1500;
  const scale = workingScale(frame.width, frame.height, maxSide);
  const refineScale = Math.min(1, 2 * scale);
  const key = `${scale}:${refineScale}:${count}`;

  let t = performance.now();
  let cached = plateCache.get(plate.data);
  if (!cached || cached.key !== key) {
    cached = { key, prepared: prepare(cv, plate, scale, refineScale, count), ms: 0 };
    cached.ms = performance.now() - t;
    plateCache.set(plate.data, cached);
  }
  const plateMs = cached.ms;
  const pp = cached.prepared;
  const pf = pp.features;
  let frameMs = 0;
  let matchMs = 0;
  let fitMs = 0;
  const timings = (): EstimateTimings => ({ plateFeaturesMs: plateMs, frameFeaturesMs: frameMs, matchMs, fitMs });
  const fail = (reason: string, matches: number, inliers: number): GeometricEstimate => ({ ok: false, tracked: false, reason, matches, inliers, timings: timings() });
  const toFull = (v: number): number => (v + 0.5) / scale - 0.5;

  if (options.prior && pf.count >= MIN_INLIERS) {
    t = performance.now();
    const grey = prepare(cv, frame, scale, refineScale, count, false).grey;
    frameMs = performance.now() - t;
    t = performance.now();
    const { prior } = options;
    const inside: number[] = [];
    for (let i = 0; i < pf.count; i++) {
      const x = toFull(pf.points[2 * i]!);
      const y = toFull(pf.points[2 * i + 1]!);
      const [fx, fy] = apply(prior, x, y);
      if (fx >= 8 && fy >= 8 && fx <= frame.width - 9 && fy <= frame.height - 9) inside.push(x, y);
    }
    const followed = inside.length / 2 >= MIN_INLIERS ? refine(cv, pp.grey, grey, refineScale, prior, inside, FOLLOW) : undefined;
    fitMs = performance.now() - t;
    if (followed && isPlausible(followed.warp, frame.width, frame.height)) {
      return { ok: true, tracked: true, warp: followed.warp, matches: inside.length / 2, inliers: followed.inliers, timings: timings() };
    }
  }

  t = performance.now();
  const fp = prepare(cv, frame, scale, refineScale, count);
  const ff = fp.features;
  frameMs += performance.now() - t;

  if (pf.count < MIN_INLIERS || ff.count < MIN_INLIERS) {
    return fail(`too little texture to align (${pf.count} features in the plate, ${ff.count} in the frame)`, 0, 0);
  }
  t = performance.now();
  const pairs = withMats(cv, 'feature matching', (keep) => {
    const matcher = keep(new cv.BFMatcher(cv.NORM_HAMMING, false));
    const knn = keep(new cv.DMatchVectorVector());
    matcher.knnMatch(descriptorMat(cv, ff, keep), descriptorMat(cv, pf, keep), knn, 2);
    const from: number[] = [];
    const to: number[] = [];
    for (let i = 0; i < knn.size(); i++) {
      const best = knn.get(i);
      if (best.size() < 2) continue;
      const m0 = best.get(0);
      const m1 = best.get(1);
      if (m0.distance < RATIO * m1.distance) {
        from.push(pf.points[2 * m0.trainIdx]!, pf.points[2 * m0.trainIdx + 1]!);
        to.push(ff.points[2 * m0.queryIdx]!, ff.points[2 * m0.queryIdx + 1]!);
      }
    }
    return { from, to };
  });
  matchMs += performance.now() - t;
  const matches = pairs.from.length / 2;
  if (matches < MIN_INLIERS) return fail(`the frame and the plate have too little in common (${matches} feature matches)`, matches, 0);

  t = performance.now();
  const fit = robustFit(cv, pairs.from, pairs.to, FIT_THRESHOLD);
  const inliers = fit.inlier.reduce((a, b) => a + (b ? 1 : 0), 0);
  if (!fit.h || inliers < MIN_INLIERS || inliers < MIN_INLIER_SHARE * matches) {
    fitMs += performance.now() - t;
    return fail(`the frame and the plate have too little in common (${inliers} of ${matches} matches agree on one camera motion)`, matches, inliers);
  }
  const coarse = rescale(fromArray(fit.h), scale);
  const platePoints: number[] = [];
  for (let i = 0; i < matches; i++) if (fit.inlier[i]) platePoints.push(toFull(pairs.from[2 * i]!), toFull(pairs.from[2 * i + 1]!));
  const warp = refine(cv, pp.grey, fp.grey, refineScale, coarse, platePoints)?.warp ?? coarse;
  fitMs += performance.now() - t;
  if (!isPlausible(warp, frame.width, frame.height)) {
    return fail('the matches agree only on an implausible camera motion (folded, or scaled more than 2x)', matches, inliers);
  }
  return { ok: true, tracked: false, warp, matches, inliers, timings: timings() };
}
