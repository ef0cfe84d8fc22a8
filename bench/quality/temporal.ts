// Temporal stability: a generated clip of a static subject in front of a fixed plate, where only
// the sensor noise changes from frame to frame. Everything a model changes between frames is
// flicker: mean |alpha(t) - alpha(t-1)| over the background, over the subject, and overall.
import type { Plane } from '../../src/engine/frame.js';
import { sad } from '../../src/eval/metrics.js';
import { composite, sensorNoise } from '../../src/eval/perturb.js';
import { makeScene } from '../../src/eval/synthetic.js';
import type { ModelVariant } from './variants.js';

export interface TemporalOptions {
  readonly width: number;
  readonly height: number;
  readonly frames: number;
  /** Per-frame sensor noise (levels): read noise and shot noise per level. */
  readonly read: number;
  readonly shot: number;
}

export const defaultTemporal: TemporalOptions = { width: 640, height: 360, frames: 30, read: 2, shot: 0.03 };

/** Mean |alpha(t) - alpha(t-1)| in alpha units x1e3, per region. */
export interface Flicker {
  readonly background: number;
  readonly subject: number;
  readonly all: number;
}

/** Flicker, and how right the mattes are (a model that finds nothing never flickers). */
export interface ClipScores extends Flicker {
  /** Mean SAD (/1000) of a frame's alpha against the truth. */
  readonly sad: number;
}

/** Accumulates frame-to-frame alpha change over the regions of a fixed ground truth. */
export class FlickerMeter {
  private previous: Uint8Array | undefined;
  private sums = { background: 0, subject: 0, all: 0 };
  private steps = 0;
  private readonly counts: { background: number; subject: number; all: number };

  constructor(private readonly truth: Float32Array) {
    const subject = truth.reduce((n, a) => n + (a > 0 ? 1 : 0), 0);
    this.counts = { background: truth.length - subject, subject, all: truth.length };
  }

  add(alpha: Plane): void {
    if (this.previous) {
      let bg = 0;
      let fg = 0;
      for (let i = 0; i < alpha.data.length; i++) {
        const d = Math.abs(alpha.data[i]! - this.previous[i]!);
        if (this.truth[i]! > 0) fg += d;
        else bg += d;
      }
      this.sums.background += bg / 255;
      this.sums.subject += fg / 255;
      this.sums.all += (bg + fg) / 255;
      this.steps++;
    }
    this.previous = new Uint8Array(alpha.data);
  }

  result(): Flicker {
    const mean = (k: keyof Flicker) => (this.steps && this.counts[k] ? (this.sums[k] / this.steps / this.counts[k]) * 1e3 : 0);
    return { background: mean('background'), subject: mean('subject'), all: mean('all') };
  }
}

/** A subject with every hard feature (soft edges, strands, veil, close colour), clean. */
export function temporalScene(o: TemporalOptions) {
  return makeScene('static-subject', { width: o.width, height: o.height, noise: 0, strands: true, veil: true, closeColour: true, softEdge: 2, seed: 21 });
}

/** Flicker of each variant on the clip; the plate is captured once (its own noise, fixed). */
export async function measureFlicker(variants: readonly ModelVariant[], o: TemporalOptions = defaultTemporal): Promise<Map<string, ClipScores>> {
  const scene = temporalScene(o);
  const clean = composite(scene);
  const plate = sensorNoise(scene.plate, { read: o.read, shot: o.shot, seed: 1000 });
  const frameAt = (t: number) => sensorNoise(clean, { read: o.read, shot: o.shot, seed: 2000 + t });
  const out = new Map<string, ClipScores>();
  for (const v of variants) {
    const first = frameAt(0);
    const model = v.forClip?.({ frame: first, plate, truth: scene.alpha }) ?? v;
    const meter = new FlickerMeter(scene.alpha);
    let sadSum = 0;
    for (let t = 0; t < o.frames; t++) {
      const frame = t === 0 ? first : frameAt(t);
      const { alpha } = await model.run(frame, plate);
      meter.add(alpha);
      sadSum += sad(alpha, scene.alpha);
    }
    out.set(v.name, { ...meter.result(), sad: sadSum / o.frames });
  }
  return out;
}
