// OpenCV's WebAssembly build (@techstark/opencv-js, Apache-2.0), loaded once on first use: the
// 11 MB script takes about a second to compile, which only jobs that align should pay. The
// package's own typings are mostly `any`; the interface below names exactly what alignment uses.
import { createRequire } from 'node:module';

export interface CvMat {
  readonly rows: number;
  readonly cols: number;
  readonly data: Uint8Array;
  readonly data32F: Float32Array;
  readonly data64F: Float64Array;
  delete(): void;
}

export interface CvKeyPoint {
  readonly pt: { readonly x: number; readonly y: number };
}

export interface CvVector<T> {
  size(): number;
  get(i: number): T;
  delete(): void;
}

export interface CvDMatch {
  readonly queryIdx: number;
  readonly trainIdx: number;
  readonly distance: number;
}

export interface CvSize {
  readonly width: number;
  readonly height: number;
}

export interface OpenCv {
  Mat: { new (): CvMat; new (rows: number, cols: number, type: number): CvMat };
  Size: new (width: number, height: number) => CvSize;
  KeyPointVector: new () => CvVector<CvKeyPoint>;
  DMatchVectorVector: new () => CvVector<CvVector<CvDMatch>>;
  ORB: new (
    nfeatures: number,
    scaleFactor: number,
    nlevels: number,
    edgeThreshold: number,
    firstLevel: number,
    wtaK: number,
    scoreType: number,
    patchSize: number,
    fastThreshold: number,
  ) => { detectAndCompute(img: CvMat, mask: CvMat, keypoints: CvVector<CvKeyPoint>, descriptors: CvMat): void; delete(): void };
  BFMatcher: new (
    normType: number,
    crossCheck: boolean,
  ) => {
    knnMatch(query: CvMat, train: CvMat, matches: CvVector<CvVector<CvDMatch>>, k: number): void;
    delete(): void;
  };
  matFromArray(rows: number, cols: number, type: number, values: ArrayLike<number>): CvMat;
  cvtColor(src: CvMat, dst: CvMat, code: number): void;
  resize(src: CvMat, dst: CvMat, size: CvSize, fx: number, fy: number, interpolation: number): void;
  findHomography(src: CvMat, dst: CvMat, method: number, threshold: number, mask: CvMat, maxIters: number, confidence: number): CvMat;
  warpPerspective(src: CvMat, dst: CvMat, m: CvMat, size: CvSize, flags: number, borderMode: number): void;
  calcOpticalFlowPyrLK(prev: CvMat, next: CvMat, prevPts: CvMat, nextPts: CvMat, status: CvMat, err: CvMat, winSize: CvSize, maxLevel: number, criteria: unknown, flags: number): void;
  LUT(src: CvMat, lut: CvMat, dst: CvMat): void;
  TermCriteria: new (type: number, maxCount: number, epsilon: number) => unknown;
  exceptionFromPtr(ptr: number): { msg?: string };
  readonly CV_8UC1: number;
  readonly CV_8UC3: number;
  readonly CV_8UC4: number;
  readonly CV_32FC2: number;
  readonly CV_64FC1: number;
  readonly COLOR_RGB2GRAY: number;
  readonly COLOR_RGBA2GRAY: number;
  readonly INTER_AREA: number;
  readonly INTER_LINEAR: number;
  readonly BORDER_TRANSPARENT: number;
  readonly NORM_HAMMING: number;
  readonly USAC_MAGSAC: number;
  readonly OPTFLOW_USE_INITIAL_FLOW: number;
  readonly TermCriteria_EPS: number;
  readonly TermCriteria_COUNT: number;
}

let loading: Promise<OpenCv> | undefined;

/** The OpenCV module, compiled on the first call; later calls share it. */
export function openCv(): Promise<OpenCv> {
  loading ??= load().catch((err: unknown) => {
    loading = undefined;
    throw err;
  });
  return loading;
}

async function load(): Promise<OpenCv> {
  // opencv.js (an Emscripten build) installs process-wide handlers that turn any unhandled
  // rejection into an abort of the wasm runtime: the engine keeps its own error handling.
  const before = {
    uncaughtException: new Set(process.listeners('uncaughtException')),
    unhandledRejection: new Set(process.listeners('unhandledRejection')),
  };
  const require = createRequire(import.meta.url);
  const cv = require('@techstark/opencv-js') as OpenCv & { onRuntimeInitialized?: () => void };
  for (const listener of process.listeners('uncaughtException')) {
    if (!before.uncaughtException.has(listener)) process.off('uncaughtException', listener);
  }
  for (const listener of process.listeners('unhandledRejection')) {
    if (!before.unhandledRejection.has(listener)) process.off('unhandledRejection', listener);
  }
  if (typeof (cv as { Mat?: unknown }).Mat !== 'function') {
    await new Promise<void>((resolve) => {
      cv.onRuntimeInitialized = resolve;
    });
  }
  // The module is a thenable (Emscripten's `then`): resolving a promise with it would loop forever.
  delete (cv as { then?: unknown }).then;
  return cv;
}

/** OpenCV's C++ exceptions reach JS as bare numbers: turn them into Errors with its message. */
export function cvError(cv: OpenCv, err: unknown, what: string): Error {
  if (typeof err === 'number') {
    let detail = `code ${err}`;
    try {
      detail = cv.exceptionFromPtr(err).msg ?? detail;
    } catch {
      // keep the number
    }
    return new Error(`${what}: OpenCV error: ${detail}`);
  }
  return err instanceof Error ? err : new Error(`${what}: ${String(err)}`);
}

/** Runs `body` with a list that deletes every Mat/vector pushed onto it afterwards (wasm memory is not GC'd). */
export function withMats<T>(cv: OpenCv, what: string, body: (keep: <M extends { delete(): void }>(m: M) => M) => T): T {
  const owned: { delete(): void }[] = [];
  try {
    return body((m) => {
      owned.push(m);
      return m;
    });
  } catch (err) {
    throw cvError(cv, err, what);
  } finally {
    for (const m of owned) m.delete();
  }
}
