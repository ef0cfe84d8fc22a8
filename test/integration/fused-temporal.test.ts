// The fused model's temporal stabiliser (src/engine/matting/fused/temporal.ts) with the real
// converted RVM and onnxruntime: in a sequence, a static subject under sensor noise flickers far
// less than with the filter off; a subject that appears is there at once; a new frame size starts
// afresh; stills are untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Frame } from '../../src/engine/frame.js';
import { FusedSession, fusedSettings } from '../../src/engine/matting/fused/session.js';
import { PlateSession } from '../../src/engine/matting/plate/session.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { openRvmSession } from '../../src/engine/matting/rvm/session.js';
import { FrameSequence } from '../../src/engine/matting/types.js';
import { composite, sensorNoise } from '../../src/eval/perturb.js';
import { makeScene } from '../../src/eval/synthetic.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { withSquare } from '../support/images.js';
import { rvmModelsDir } from '../support/rvm.js';

const W = 160;
const H = 96;
let filtered: FusedSession;
let unfiltered: FusedSession;

beforeAll(async () => {
  const modelsDir = await rvmModelsDir();
  const entry = (await ModelRegistry.load(modelsDir)).entry('fused')!;
  const open = async (temporal: object) => {
    const settings = fusedSettings({ ...entry, settings: { ...entry.settings, temporal } });
    const prior = await openRvmSession({ ...entry, kind: 'rvm', settings: {} }, { modelsDir });
    return new FusedSession('fused', settings, new PlateSession('fused/plate', settings.plate), prior);
  };
  filtered = await open({});
  unfiltered = await open({ rest: 1 });
});
afterAll(async () => {
  await Promise.all([filtered?.dispose(), unfiltered?.dispose()]);
  await removeTempDirs();
});

// A subject with soft edges, strands, a veil and colours close to the plate: many pixels near the
// plate branch's thresholds, where noise flips them.
const scene = makeScene('static-subject', { width: W, height: H, noise: 0, strands: true, veil: true, closeColour: true, softEdge: 2, seed: 21 });
const clean = composite(scene);
const plate = sensorNoise(scene.plate, { read: 2, shot: 0.03, seed: 1000 });
const noisy = (frame: Frame, t: number) => sensorNoise(frame, { read: 2, shot: 0.03, seed: 2000 + t });

/** Mean |alpha(t) - alpha(t-1)| (alpha units x1e3) over a clip of `frames`. */
async function flicker(session: FusedSession, frames: number): Promise<number> {
  const sequence = new FrameSequence();
  let previous: Uint8Array | undefined;
  let sum = 0;
  for (let t = 0; t < frames; t++) {
    const { alpha } = await session.run(noisy(clean, t), plate, { sequence, foreground: false });
    if (previous) for (let i = 0; i < alpha.data.length; i++) sum += Math.abs(alpha.data[i]! - previous[i]!);
    previous = alpha.data;
  }
  return (sum / 255 / (W * H) / (frames - 1)) * 1e3;
}

const meanAlpha = (alpha: Uint8Array, x0: number, y0: number, size: number): number => {
  let s = 0;
  for (let y = y0; y < y0 + size; y++) for (let x = x0; x < x0 + size; x++) s += alpha[y * W + x]!;
  return s / (size * size);
};

describe('fused temporal stabiliser', () => {
  it('a static subject under sensor noise flickers at most half as much as with the filter off', async () => {
    const off = await flicker(unfiltered, 8);
    const on = await flicker(filtered, 8);
    expect(off).toBeGreaterThan(0.5); // the case flickers at all without the filter
    expect(on).toBeLessThan(off * 0.5);
  });

  it('a subject that appears in a still picture is matted at once, as without the filter', async () => {
    const empty = composite({ ...scene, alpha: new Float32Array(W * H) });
    const square = { x: 20, y: 20, size: 24, color: [250, 30, 200] as [number, number, number] };
    const results = [];
    for (const session of [filtered, unfiltered]) {
      const sequence = new FrameSequence();
      for (let t = 0; t < 4; t++) await session.run(noisy(empty, t), plate, { sequence, foreground: false });
      results.push((await session.run(noisy(withSquare(empty, square), 4), plate, { sequence, foreground: false })).alpha.data);
    }
    const [on, off] = results.map((a) => meanAlpha(a!, square.x + 2, square.y + 2, square.size - 4));
    expect(off).toBeGreaterThan(0.9 * 255);
    expect(on).toBeGreaterThan(0.9 * 255);
  });

  it('a moving subject is followed at once: full alpha where it is now, none where it was', async () => {
    const empty = composite({ ...scene, alpha: new Float32Array(W * H) });
    const sequence = new FrameSequence();
    let alpha: Uint8Array | undefined;
    const at = (t: number) => ({ x: 10 + 8 * t, y: 30, size: 24, color: [250, 30, 200] as [number, number, number] });
    for (let t = 0; t < 6; t++) alpha = (await filtered.run(noisy(withSquare(empty, at(t)), t), plate, { sequence, foreground: false })).alpha.data;
    const now = at(5);
    expect(meanAlpha(alpha!, now.x + 2, now.y + 2, now.size - 4)).toBeGreaterThan(0.9 * 255);
    expect(meanAlpha(alpha!, at(3).x, now.y, 12)).toBeLessThan(0.1 * 255); // left behind two frames ago
  });

  it('a new frame size starts afresh, and stills are bit-identical to the filter off', async () => {
    const sequence = new FrameSequence();
    for (let t = 0; t < 3; t++) await filtered.run(noisy(clean, t), plate, { sequence, foreground: false });
    const halfScene = makeScene('static-subject', { width: W / 2, height: H / 2, noise: 0, seed: 3 });
    const half = noisy(composite(halfScene), 9);
    const afterResize = await filtered.run(half, halfScene.plate, { sequence, foreground: false });
    const firstOff = await unfiltered.run(half, halfScene.plate, { sequence: new FrameSequence(), foreground: false });
    expect(afterResize.alpha.data).toEqual(firstOff.alpha.data);

    const still = noisy(clean, 5);
    const [a, b] = await Promise.all([filtered.run(still, plate), unfiltered.run(still, plate)]);
    expect(a.alpha.data).toEqual(b.alpha.data);
    expect(a.foreground!.data).toEqual(b.foreground!.data);
  });
});
