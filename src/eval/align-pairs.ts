// Capture pairs with a known camera motion between plate and frame, for plate-alignment tests
// and benchmarks. The background is a textured scene evaluated analytically at any point, so the
// plate is rendered exactly where a homography puts it (no resampling that alignment would have
// to undo), and the subject comes from makeScene's ground truth. The plate stays put and the
// camera moves: the same seed gives the same plate whatever the warp. Plain JS loops: eval code.
import type { Frame } from '../engine/frame.js';
import { apply, invert, type Homography } from '../engine/align/homography.js';
import { makeScene, rng } from './synthetic.js';

export interface AlignPairOptions {
  readonly width: number;
  readonly height: number;
  /** Where plate pixels appear in the frame (plate -> frame); identity when omitted. */
  readonly warp?: Homography;
  /** Exposure of the frame against the plate: frame = gain * scene + offset (offset in 8-bit levels). */
  readonly gain?: readonly [number, number, number];
  readonly offset?: readonly [number, number, number];
  /** Sensor noise standard deviation in 8-bit levels. */
  readonly noise?: number;
  /** Put makeScene's subject (head and torso) into the frame. Default true. */
  readonly subject?: boolean;
  /** A frame of a different scene (nothing in common with the plate). */
  readonly unrelated?: boolean;
  readonly seed?: number;
}

export interface AlignPair {
  readonly frame: Frame;
  readonly plate: Frame;
  readonly warp: Homography;
  readonly gain: readonly [number, number, number];
  readonly offset: readonly [number, number, number];
  /** Ground-truth alpha of the subject, 0..1 (all zero without a subject). */
  readonly alpha: Float32Array;
}

function hash(ix: number, iy: number, seed: number): number {
  let h = Math.imul(ix, 0x27d4eb2d) ^ Math.imul(iy, 0x165667b1) ^ Math.imul(seed, 0x9e3779b1);
  h = Math.imul(h ^ (h >>> 15), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Smooth value noise in 0..1 with features about `cell` pixels apart. */
function valueNoise(x: number, y: number, cell: number, seed: number): number {
  const u = x / cell;
  const v = y / cell;
  const ix = Math.floor(u);
  const iy = Math.floor(v);
  const fx = u - ix;
  const fy = v - iy;
  const sx = fx * fx * (3 - 2 * fx);
  const sy = fy * fy * (3 - 2 * fy);
  const a = hash(ix, iy, seed);
  const b = hash(ix + 1, iy, seed);
  const c = hash(ix, iy + 1, seed);
  const d = hash(ix + 1, iy + 1, seed);
  return a + (b - a) * sx + (c - a) * sy + (a - b - c + d) * sx * sy;
}

/** The scene behind the subject at frame coordinates (x, y): colour in 0..1 into `out`. */
function sceneColour(x: number, y: number, width: number, height: number, seed: number, out: number[]): void {
  const u = x / width;
  const v = y / height;
  // Hard-edged patches (posters, furniture) give corners; two octaves of noise give texture.
  const patch = valueNoise(x, y, 37, seed + 3) > 0.56 ? 0.22 : 0;
  const spot = valueNoise(x, y, 13, seed + 4) > 0.7 ? -0.12 : 0;
  for (let c = 0; c < 3; c++) {
    const fine = valueNoise(x, y, 7, seed + 10 * c);
    const coarse = valueNoise(x, y, 23, seed + 10 * c + 1);
    const base = 0.35 + 0.2 * (c === 0 ? u : c === 1 ? v : 1 - u);
    out[c] = Math.min(1, Math.max(0, base + 0.18 * fine + 0.2 * coarse + (c === 1 ? patch * 0.5 : patch) + spot - 0.15));
  }
}

/** 2x2 supersampled scene colour of the pixel at (x, y) seen through `map` (pixel -> scene). */
function pixel(map: (x: number, y: number) => [number, number], x: number, y: number, W: number, H: number, seed: number, acc: number[], tmp: number[]): void {
  acc[0] = acc[1] = acc[2] = 0;
  for (const [dx, dy] of [
    [-0.25, -0.25],
    [0.25, -0.25],
    [-0.25, 0.25],
    [0.25, 0.25],
  ] as const) {
    const [sx, sy] = map(x + dx, y + dy);
    sceneColour(sx, sy, W, H, seed, tmp);
    for (let c = 0; c < 3; c++) acc[c]! += tmp[c]! / 4;
  }
}

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(Math.max(rand(), 1e-12))) * Math.cos(2 * Math.PI * rand());
}

export function makeAlignPair(o: AlignPairOptions): AlignPair {
  const { width: W, height: H } = o;
  const warp = o.warp ?? ([1, 0, 0, 0, 1, 0, 0, 0, 1] as const);
  const gain = o.gain ?? [1, 1, 1];
  const offset = o.offset ?? [0, 0, 0];
  const seed = o.seed ?? 5;
  const rand = rng(seed);
  const noise = o.noise ?? 1;
  const subject = o.subject ?? true;
  const scene = subject ? makeScene('align', { width: W, height: H, seed }) : undefined;
  const n = W * H;
  const frame = new Uint8Array(n * 3);
  const plate = new Uint8Array(n * 3);
  const acc = [0, 0, 0];
  const tmp = [0, 0, 0];
  const identity = (x: number, y: number): [number, number] => [x, y];
  // Plate content at p shows in the frame at warp(p): the frame at x sees the scene at warp^-1(x).
  const back = invert(warp);
  const throughWarp = (x: number, y: number) => apply(back, x, y);
  // An unrelated frame shows another place: the same kind of texture from another seed.
  const frameSeed = o.unrelated ? seed + 1000 : seed;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const a = scene ? scene.alpha[i]! : 0;
      pixel(throughWarp, x, y, W, H, frameSeed, acc, tmp);
      for (let c = 0; c < 3; c++) {
        const f = scene ? scene.foreground[3 * i + c]! : 0;
        const v = gain[c]! * (a * f + (1 - a) * acc[c]!) * 255 + offset[c]! + noise * gaussian(rand);
        frame[3 * i + c] = Math.round(Math.min(255, Math.max(0, v)));
      }
      pixel(identity, x, y, W, H, seed, acc, tmp);
      for (let c = 0; c < 3; c++) plate[3 * i + c] = Math.round(Math.min(255, Math.max(0, acc[c]! * 255 + noise * gaussian(rand))));
    }
  }
  return {
    frame: { data: frame, width: W, height: H, channels: 3 },
    plate: { data: plate, width: W, height: H, channels: 3 },
    warp,
    gain,
    offset,
    alpha: scene ? scene.alpha : new Float32Array(n),
  };
}
