// More clips for the temporal suite, next to its generated static subject (temporal.ts):
//   - "real static": capture pair 0001 (a real frame and its real plate, from the shared data
//     folder; skipped when absent), the frame with fresh synthetic sensor noise every frame;
//   - "moving": the generated subject sliding sideways, scored by SAD against its moving truth, so
//     a filter that steadies alpha cannot buy its steadiness by dragging edges behind.
// And the fused model with its temporal filter off, as a column of its own.
import { existsSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import type { Frame } from '../../src/engine/frame.js';
import { openFusedSession } from '../../src/engine/matting/fused/session.js';
import type { ModelRegistry } from '../../src/engine/matting/registry.js';
import { sad } from '../../src/eval/metrics.js';
import { composite, sensorNoise } from '../../src/eval/perturb.js';
import { loadCapturePair, type SharedData } from './datasets.js';
import { FlickerMeter, temporalScene, type TemporalOptions } from './temporal.js';
import { sessionVariant, type ModelVariant } from './variants.js';

export const NO_FILTER = 'fused (no temporal filter)';

/** The fused model with `settings.temporal.rest` 1 (filter off), for the temporal set only. */
export async function fusedWithoutFilter(registry: ModelRegistry): Promise<ModelVariant | undefined> {
  const entry = registry.entry('fused');
  if (!entry || !registry.list().some((m) => m.id === 'fused' && m.available)) return undefined;
  // As the registry does: the learned part runs the preferred entry's file when it is present.
  const preferred = entry.prefer ? registry.entry(entry.prefer) : undefined;
  const file = preferred?.file && existsSync(path.join(registry.modelsDir, preferred.file)) ? preferred.file : entry.file;
  const settings = entry.settings as { temporal?: object };
  const session = await openFusedSession({ ...entry, file, settings: { ...settings, temporal: { ...settings.temporal, rest: 1 } } }, { modelsDir: registry.modelsDir });
  const v = sessionVariant(NO_FILTER, session, 'fused model "fused" with settings.temporal.rest = 1 (its temporal filter off)');
  // No `kind`: the checks find "the" fused model by kind, and this is not it.
  return { name: v.name, description: v.description!, sets: ['temporal'], run: v.run, forClip: v.forClip!, dispose: v.dispose! };
}

/** A clip: frame t, its truth when known, one plate. */
export interface Clip {
  readonly name: string;
  readonly description: string;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly plate: Frame;
  frame(t: number): Frame;
  truth?(t: number): Float32Array;
}

/** Flicker over all pixels (x1e3 as in temporal.ts) and, with truth, SAD per frame (/1000). */
export interface CaseScores {
  readonly flicker: number;
  readonly sad: number | null;
}

export interface CaseResult {
  readonly name: string;
  readonly description: string;
  readonly frames: number;
  readonly width: number;
  readonly height: number;
  readonly scores: Record<string, CaseScores>;
}

export async function measureClip(variants: readonly ModelVariant[], clip: Clip): Promise<CaseResult> {
  const scores: Record<string, CaseScores> = {};
  const first = clip.frame(0);
  const firstTruth = clip.truth?.(0);
  for (const v of variants) {
    const model = v.forClip?.({ frame: first, plate: clip.plate, truth: firstTruth ?? new Float32Array(first.width * first.height) }) ?? v;
    // Regions do not matter here (a moving subject has none fixed): all pixels only.
    const meter = new FlickerMeter(new Float32Array(first.width * first.height));
    let sadSum = 0;
    for (let t = 0; t < clip.frames; t++) {
      const { alpha } = await model.run(t === 0 ? first : clip.frame(t), clip.plate);
      meter.add(alpha);
      if (clip.truth) sadSum += sad(alpha, t === 0 ? firstTruth! : clip.truth(t));
    }
    scores[v.name] = { flicker: meter.result().all, sad: clip.truth ? sadSum / clip.frames : null };
  }
  return { name: clip.name, description: clip.description, frames: clip.frames, width: clip.width, height: clip.height, scores };
}

async function resized(f: Frame, width: number, height: number): Promise<Frame> {
  if (f.width === width && f.height === height) return f;
  const data = await sharp(f.data, { raw: { width: f.width, height: f.height, channels: f.channels } })
    .resize(width, height, { fit: 'cover' })
    .removeAlpha()
    .raw()
    .toBuffer();
  return { data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength), width, height, channels: 3 };
}

export const REAL_STATIC_PAIR = '0001';
export const REAL_STATIC_FRAMES = 12;

/** Capture pair 0001 at the temporal size, fresh sensor noise on the frame every frame; undefined (with why) when absent. */
export async function realStaticClip(shared: SharedData | undefined, o: TemporalOptions): Promise<Clip | string> {
  const pair = shared?.capturePairs.find((p) => path.basename(p.name) === REAL_STATIC_PAIR);
  if (!pair) return `temporal: real static case skipped: no capture pair ${REAL_STATIC_PAIR} in the shared data folder (${shared?.dir ?? 'none found'}; set CLEANPLATE_SHARED_DATA)`;
  const loaded = await loadCapturePair(pair);
  const [frame, plate] = await Promise.all([resized(loaded.frame, o.width, o.height), resized(loaded.plate, o.width, o.height)]);
  return {
    name: `real static (${pair.name})`,
    description: `capture pair ${pair.name} scaled to ${o.width}x${o.height}, ${REAL_STATIC_FRAMES} frames, sensor noise read ${o.read} + shot ${o.shot}/level fresh on the frame every frame, its real plate fixed`,
    frames: REAL_STATIC_FRAMES,
    width: o.width,
    height: o.height,
    plate,
    frame: (t) => sensorNoise(frame, { read: o.read, shot: o.shot, seed: 5000 + t }),
  };
}

export const MOVING_FRAMES = 12;
/** Pixels the subject moves per frame at 640 px wide (scaled with the width). */
export const MOVING_STEP = 4;

/** The temporal suite's generated subject sliding right, truth moving with it. */
export function movingClip(o: TemporalOptions): Clip {
  const scene = temporalScene(o);
  const { width: W, height: H } = o;
  const step = Math.max(1, Math.round((MOVING_STEP * W) / 640));
  const shifted = (t: number) => {
    const dx = step * (t - Math.floor(MOVING_FRAMES / 2)); // centred on the scene's own place
    const alpha = new Float32Array(W * H);
    const foreground = new Float32Array(W * H * 3);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const sx = x - dx;
        if (sx < 0 || sx >= W) continue;
        const from = y * W + sx;
        const to = y * W + x;
        alpha[to] = scene.alpha[from]!;
        foreground.set(scene.foreground.subarray(3 * from, 3 * from + 3), 3 * to);
      }
    }
    return { alpha, foreground };
  };
  const plate = sensorNoise(scene.plate, { read: o.read, shot: o.shot, seed: 1000 });
  return {
    name: 'moving',
    description: `the static subject sliding right ${step} px a frame, ${MOVING_FRAMES} frames, sensor noise as above; SAD against the moving truth`,
    frames: MOVING_FRAMES,
    width: W,
    height: H,
    plate,
    frame: (t) => sensorNoise(composite({ plate: scene.plate, ...shifted(t) }), { read: o.read, shot: o.shot, seed: 6000 + t }),
    truth: (t) => shifted(t).alpha,
  };
}
