// The fused model's temporal stabiliser (src/engine/matting/fused/temporal.ts) on the real plate
// model, fusion graph and converted RVM: over a still subject with fresh sensor noise every frame
// the matte flickers less than without it; a subject that appears or moves is there at once; a new
// frame size or a reset sequence starts afresh; stills and first frames are untouched.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fusedSettings, openFusedSession } from '../../src/engine/matting/fused/session.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { sensorNoise } from '../../src/eval/perturb.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { personFrame, rvmModelsDir } from '../support/rvm.js';

const W = 192;
const H = 108;
const room = personFrame(W, H, 10_000);
const noisy = (f: Frame, seed: number) => sensorNoise(f, { read: 2, shot: 0.03, seed });
const plate = noisy(room, 1);

let on: MattingSession;
let off: MattingSession;

beforeAll(async () => {
  const modelsDir = await rvmModelsDir();
  const registry = await ModelRegistry.load(modelsDir);
  const entry = registry.entry('fused')!;
  expect(fusedSettings(entry).temporal.rest).toBeLessThan(1); // on by default
  on = await openFusedSession(entry, { modelsDir });
  off = await openFusedSession({ ...entry, settings: { ...entry.settings, temporal: { rest: 1 } } }, { modelsDir });
});
afterAll(async () => {
  await Promise.all([on?.dispose(), off?.dispose()]);
  await removeTempDirs();
});

async function clip(session: MattingSession, frames: readonly Frame[], bgr = plate, sequence = new FrameSequence()): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for (const f of frames) out.push((await session.run(f, bgr, { sequence, foreground: false })).alpha.data);
  return out;
}

/** Mean |alpha(t) - alpha(t-1)| (levels). */
function flicker(alphas: readonly Uint8Array[]): number {
  let sum = 0;
  for (let t = 1; t < alphas.length; t++) for (let i = 0; i < alphas[t]!.length; i++) sum += Math.abs(alphas[t]![i]! - alphas[t - 1]![i]!);
  return sum / (alphas.length - 1) / alphas[0]!.length;
}

/** Mean alpha (0..1) over a rectangle. */
function meanAlpha(alpha: Uint8Array, width: number, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) sum += alpha[y * width + x]!;
  return sum / ((x1 - x0) * (y1 - y0)) / 255;
}

describe('fused model: temporal stabiliser', () => {
  it('a still subject under fresh sensor noise flickers less than without the filter, and the first frame is untouched', async () => {
    const person = personFrame(W, H);
    const frames = Array.from({ length: 10 }, (_, t) => noisy(person, 100 + t));
    const [steady, raw] = [await clip(on, frames), await clip(off, frames)];
    expect(steady[0]).toEqual(raw[0]);
    const ratio = flicker(steady) / flicker(raw);
    expect(flicker(raw)).toBeGreaterThan(0.05); // there is flicker to remove
    expect(ratio).toBeLessThan(0.6);
    // Still the right matte: the torso solid, the wall clear.
    expect(meanAlpha(steady[9]!, W, 86, 80, 106, 100)).toBeGreaterThan(0.95);
    expect(meanAlpha(steady[9]!, W, 0, 0, 40, 40)).toBeLessThan(0.02);
  });

  it('a subject that appears, then moves, is matted at once where it is, with no trail', async () => {
    // A box no person prior would take for a person (only the plate branch sees it): the filter
    // must not slow down what the plate finds.
    const box = (x0: number): Frame => {
      const data = Uint8Array.from(room.data);
      for (let y = 30; y < 70; y++) for (let x = x0; x < x0 + 30; x++) data.set([200, 60, 40], (y * W + x) * 3);
      return { ...room, data };
    };
    const xs = [20, 60, 100];
    const empty = Array.from({ length: 4 }, (_, t) => noisy(room, 200 + t));
    const alphas = await clip(on, [...empty, ...xs.map((x, t) => noisy(box(x), 300 + t))]);
    expect(meanAlpha(alphas[3]!, W, 0, 0, W, H)).toBeLessThan(0.01);
    xs.forEach((x, i) => {
      expect(meanAlpha(alphas[4 + i]!, W, x + 2, 32, x + 28, 68), `box at ${x}`).toBeGreaterThanOrEqual(0.9);
      // Where it was on the frame before: wall again at once.
      if (i > 0) expect(meanAlpha(alphas[4 + i]!, W, xs[i - 1]! + 2, 32, x - 2, 68), `left behind at ${xs[i - 1]}`).toBeLessThan(0.05);
    });
  });

  it('starts afresh on a new frame size and after FrameSequence.reset()', async () => {
    const person = personFrame(W, H);
    const sequence = new FrameSequence();
    const twin = new FrameSequence(); // the same history without the filter
    await clip(on, [noisy(person, 400), noisy(person, 401)], plate, sequence);
    await clip(off, [noisy(person, 400), noisy(person, 401)], plate, twin);
    // Another size: its first frame is the unfiltered one, bit for bit.
    const w2 = 160;
    const h2 = 90;
    const small = noisy(personFrame(w2, h2), 402);
    const smallPlate = noisy(personFrame(w2, h2, 10_000), 2);
    const [a] = await clip(on, [small], smallPlate, sequence);
    const [b] = await clip(off, [small], smallPlate, twin);
    expect(a).toEqual(b);
    // Back at the first size after a reset: the same again.
    sequence.reset();
    twin.reset();
    const again = noisy(person, 403);
    expect((await clip(on, [again], plate, sequence))[0]).toEqual((await clip(off, [again], plate, twin))[0]);
    // Without the reset the second frame is filtered (differs from the unfiltered one).
    const next = noisy(person, 404);
    expect((await clip(on, [next], plate, sequence))[0]).not.toEqual((await clip(off, [next], plate, twin))[0]);
  });

  it('stills are bit-identical with and without the filter', async () => {
    const frame = noisy(personFrame(W, H), 500);
    const [a, b] = [await on.run(frame, plate), await off.run(frame, plate)];
    expect(a.alpha.data).toEqual(b.alpha.data);
    expect(a.foreground!.data).toEqual(b.foreground!.data);
  });
});
