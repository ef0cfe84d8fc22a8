// Synthetic capture pairs with known alpha, for quality tests and benchmarks. A fresh clone needs
// nothing from outside: a textured plate, a subject composited over it with I = aF + (1-a)B, and
// the disturbances real capture adds (sensor noise, exposure change). Plain JS loops are fine
// here: this is evaluation code, not the matting path.
import type { Frame } from '../engine/frame.js';

export interface SyntheticPair {
  readonly name: string;
  readonly frame: Frame;
  readonly plate: Frame;
  /** Ground-truth alpha in 0..1, width x height. */
  readonly alpha: Float32Array;
  /** Ground-truth foreground colour in 0..1, RGB interleaved. */
  readonly foreground: Float32Array;
}

export interface SceneOptions {
  readonly width: number;
  readonly height: number;
  readonly seed?: number;
  /** Sensor noise standard deviation in 8-bit levels, independent in frame and plate. */
  readonly noise?: number;
  /** Multiplicative exposure change of the frame against the plate, per channel (R, G, B). */
  readonly gain?: readonly [number, number, number];
  /** Features of the subject. */
  readonly softEdge?: number;
  readonly strands?: boolean;
  readonly veil?: boolean;
  readonly closeColour?: boolean;
}

/** Deterministic PRNG (mulberry32) so every run sees the same scene. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A standard normal sample (Box-Muller) from a uniform PRNG. */
export function gaussian(rand: () => number): number {
  const u = Math.max(rand(), 1e-12);
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * rand());
}

const clamp01 = (x: number) => (x < 0 ? 0 : x > 1 ? 1 : x);
const smoothstep = (e0: number, e1: number, x: number) => {
  const t = clamp01((x - e0) / (e1 - e0));
  return t * t * (3 - 2 * t);
};

/** A textured background: gradients, soft blobs, a few hard edges (shelves, door frames). */
function plateColour(x: number, y: number, W: number, H: number, out: number[]): void {
  const u = x / W;
  const v = y / H;
  const waves = 0.06 * Math.sin(u * 23 + v * 7) + 0.04 * Math.sin(v * 31 - u * 11) + 0.03 * Math.sin((u + v) * 57);
  const stripe = Math.floor(u * 6) % 2 === 0 ? 0.05 : -0.03; // hard vertical edges
  const shelf = v > 0.62 && v < 0.66 ? -0.18 : 0;
  out[0] = clamp01(0.45 + 0.25 * u + waves + stripe + shelf);
  out[1] = clamp01(0.5 + 0.15 * v - waves + stripe * 0.5 + shelf);
  out[2] = clamp01(0.4 + 0.2 * (1 - u) + waves * 0.5 - stripe + shelf);
}

/** Signed distance-like value of the subject (head + torso), negative inside. */
function subjectField(x: number, y: number, W: number, H: number): number {
  const s = Math.min(W, H);
  const head = Math.hypot((x - 0.5 * W) / (0.11 * s), (y - 0.3 * H) / (0.13 * s)) - 1;
  const torso = Math.hypot((x - 0.5 * W) / (0.24 * s), (y - 0.85 * H) / (0.3 * s)) - 1;
  return Math.min(head, torso) * 0.12 * s; // roughly pixels
}

export function makeScene(name: string, o: SceneOptions): SyntheticPair {
  const { width: W, height: H } = o;
  const rand = rng(o.seed ?? 7);
  const n = W * H;
  const alpha = new Float32Array(n);
  const fg = new Float32Array(n * 3);
  const frame = new Uint8Array(n * 3);
  const plate = new Uint8Array(n * 3);
  const soft = o.softEdge ?? 2;
  const gain = o.gain ?? [1, 1, 1];
  const noise = (o.noise ?? 0) / 255;
  const s = Math.min(W, H);
  const bc = [0, 0, 0];
  const close = [0, 0, 0];

  // Thin strands: arcs of hair leaving the head, 1-2 px wide with partial coverage.
  const strands: { cx: number; cy: number; r: number; a0: number; a1: number; width: number; cover: number }[] = [];
  if (o.strands) {
    for (let i = 0; i < 14; i++) {
      strands.push({
        cx: 0.5 * W + (rand() - 0.5) * 0.1 * s,
        cy: 0.3 * H + 0.3 * s,
        r: 0.42 * s + rand() * 0.1 * s,
        a0: -Math.PI / 2 - 0.55 + rand() * 0.5,
        a1: -Math.PI / 2 + 0.05 + rand() * 0.5,
        width: 0.6 + rand() * 1.2,
        cover: 0.5 + rand() * 0.45,
      });
    }
  }

  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      plateColour(x, y, W, H, bc);
      // Subject colour: a textured shirt/skin, well away from the plate except where asked.
      let fr = 0.85 + 0.08 * Math.sin(x * 0.21) * Math.sin(y * 0.17);
      let fgc = 0.3 + 0.1 * Math.sin(y * 0.05);
      let fb = 0.25 + 0.05 * Math.cos(x * 0.09);
      let a = 1 - smoothstep(-soft, soft, subjectField(x, y, W, H));

      if (o.closeColour) {
        // A flat patch of the torso dressed in almost the plate's colour there: the plate's
        // texture makes the difference range from nothing to about 25 levels.
        const px = (x - 0.38 * W) / (0.08 * s);
        const py = (y - 0.8 * H) / (0.08 * s);
        if (px * px + py * py < 1) {
          plateColour(0.38 * W, 0.8 * H, W, H, close);
          fr = clamp01(close[0]! + 12 / 255);
          fgc = clamp01(close[1]! + 8 / 255);
          fb = clamp01(close[2]! - 10 / 255);
        }
      }
      if (o.veil) {
        // A semi-transparent scarf beside the subject: constant colour, alpha 0.45.
        if (x > 0.68 * W && x < 0.86 * W && y > 0.45 * H && y < 0.75 * H) {
          const av = 0.45;
          const na = a + av * (1 - a);
          const cv = [0.2, 0.35, 0.8];
          fr = (fr * a + cv[0]! * av * (1 - a)) / na;
          fgc = (fgc * a + cv[1]! * av * (1 - a)) / na;
          fb = (fb * a + cv[2]! * av * (1 - a)) / na;
          a = na;
        }
      }
      for (const st of strands) {
        const dx = x - st.cx;
        const dy = y - st.cy;
        const ang = Math.atan2(dy, dx);
        if (ang < st.a0 || ang > st.a1) continue;
        const d = Math.abs(Math.hypot(dx, dy) - st.r);
        const cov = st.cover * clamp01(st.width / 2 + 0.5 - d);
        if (cov > 0) {
          const na = a + cov * (1 - a);
          const hc = [0.2, 0.12, 0.05]; // dark hair
          fr = (fr * a + hc[0]! * cov * (1 - a)) / na;
          fgc = (fgc * a + hc[1]! * cov * (1 - a)) / na;
          fb = (fb * a + hc[2]! * cov * (1 - a)) / na;
          a = na;
        }
      }
      alpha[i] = a;
      fg[3 * i] = fr;
      fg[3 * i + 1] = fgc;
      fg[3 * i + 2] = fb;
      const fc = [fr, fgc, fb];
      for (let c = 0; c < 3; c++) {
        const comp = a * fc[c]! + (1 - a) * bc[c]!;
        frame[3 * i + c] = Math.round(255 * clamp01(comp * gain[c]! + noise * gaussian(rand)));
        plate[3 * i + c] = Math.round(255 * clamp01(bc[c]! + noise * gaussian(rand)));
      }
    }
  }
  return {
    name,
    frame: { data: frame, width: W, height: H, channels: 3 },
    plate: { data: plate, width: W, height: H, channels: 3 },
    alpha,
    foreground: fg,
  };
}

/** The quality suite: one scene per difficulty the plate model must handle. */
export function qualityScenes(width: number, height: number): SyntheticPair[] {
  const base = { width, height, noise: 1.5 };
  return [
    makeScene('soft-edges', { ...base, softEdge: 4 }),
    makeScene('thin-strands', { ...base, strands: true }),
    makeScene('semi-transparent', { ...base, veil: true }),
    makeScene('close-colour', { ...base, closeColour: true }),
    makeScene('camera-noise', { ...base, noise: 5, seed: 11 }),
    makeScene('exposure-change', { ...base, gain: [1.06, 1.05, 1.03], seed: 13 }),
  ];
}
