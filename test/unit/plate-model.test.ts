// The built-in `plate` model, run for real in onnxruntime on synthetic captures with known alpha.
import { afterAll, describe, expect, it } from 'vitest';
import { MattingInputError } from '../../src/engine/matting/errors.js';
import { defaultPlateSettings, downsampleFactor } from '../../src/engine/matting/plate/settings.js';
import { PlateSession } from '../../src/engine/matting/plate/session.js';
import type { Frame } from '../../src/engine/frame.js';
import { foregroundMse, mse, oracleNaiveKey, sad } from '../../src/eval/metrics.js';
import { castShadow, sensorNoise, shiftRotate } from '../../src/eval/perturb.js';
import { makeScene, qualityScenes, type SyntheticPair } from '../../src/eval/synthetic.js';

const session = new PlateSession('plate', defaultPlateSettings, ['cpu']);
afterAll(() => session.dispose());

function solid(width: number, height: number, rgb: [number, number, number], channels: 3 | 4 = 3): Frame {
  const data = new Uint8Array(width * height * channels);
  for (let i = 0; i < width * height; i++) {
    data.set(channels === 4 ? [...rgb, 255] : rgb, i * channels);
  }
  return { data, width, height, channels };
}

describe('plate model quality against the oracle naive difference key', () => {
  const check = async (scene: SyntheticPair) => {
    const result = await session.run(scene.frame, scene.plate);
    const ours = sad(result.alpha, scene.alpha);
    const naive = oracleNaiveKey(scene.frame, scene.plate, scene.alpha);
    console.log(
      `${scene.name} ${scene.frame.width}x${scene.frame.height}: plate SAD ${ours.toFixed(2)} MSE ${mse(result.alpha, scene.alpha).toFixed(2)}; ` +
        `naive SAD ${naive.sad.toFixed(2)} (threshold ${naive.threshold}); ratio ${(ours / naive.sad).toFixed(2)}`,
    );
    expect(ours).toBeLessThanOrEqual(0.5 * naive.sad);
  };

  for (const scene of qualityScenes(640, 360)) {
    it(`${scene.name} at 640x360: SAD at most half the oracle naive key's`, () => check(scene));
  }
  // A larger frame works at another low-resolution factor (4 instead of 2).
  for (const scene of qualityScenes(1280, 720).filter((s) => ['thin-strands', 'camera-noise', 'semi-transparent'].includes(s.name))) {
    it(`${scene.name} at 1280x720: SAD at most half the oracle naive key's`, () => check(scene));
  }
});

describe('plate model under capture differences', () => {
  // A clean composite, then what real capture adds: the subject's cast shadow on the background,
  // and a plate a pixel and a half off (tripod nudged).
  const clean = makeScene('capture', { width: 640, height: 360, noise: 0, softEdge: 3, seed: 21 });
  const c = { plate: clean.plate, alpha: clean.alpha, foreground: clean.foreground };
  const s = 360;
  const cases: [string, Frame, Frame][] = [
    ['a soft cast shadow', castShadow(c, { dx: 0.09 * s, dy: 0.03 * s, blur: 0.03 * s, strength: 0.35 }), clean.plate],
    ['a plate shifted 1.4 px and rolled 0.15 degrees', clean.frame, shiftRotate(clean.plate, { dx: 1.4, dy: -0.8, degrees: 0.15 })],
  ];
  for (const [what, shot, plate] of cases) {
    it(`${what}: SAD at most half the oracle naive key's`, async () => {
      const frame = sensorNoise(shot, { read: 1, seed: 1 });
      const noisyPlate = sensorNoise(plate, { read: 1, seed: 2 });
      const { alpha } = await session.run(frame, noisyPlate, { foreground: false });
      const naive = oracleNaiveKey(frame, noisyPlate, clean.alpha);
      expect(sad(alpha, clean.alpha)).toBeLessThanOrEqual(0.5 * naive.sad);
    });
  }

  it('can be told to keep shadows (settings.shadows = false): then the shadow is keyed', async () => {
    const keep = new PlateSession('plate', { ...defaultPlateSettings, shadows: false }, ['cpu']);
    const frame = castShadow(c, { dx: 0.09 * s, dy: 0.03 * s, blur: 0.03 * s, strength: 0.35 });
    const suppressed = await session.run(frame, clean.plate, { foreground: false });
    const kept = await keep.run(frame, clean.plate, { foreground: false });
    await keep.dispose();
    const lit = (p: { data: Uint8Array }) => p.data.reduce((n, v) => n + (v > 127 ? 1 : 0), 0);
    expect(lit(kept.alpha)).toBeGreaterThan(lit(suppressed.alpha) * 1.2);
  });
});

describe('plate model foreground', () => {
  it('recovers edge colours better than taking the frame as the foreground', async () => {
    for (const scene of qualityScenes(640, 360).filter((s) => s.name !== 'camera-noise')) {
      const { foreground } = await session.run(scene.frame, scene.plate);
      // Only where alpha is fractional: elsewhere the frame is the foreground anyway.
      const edge = scene.alpha.map((a) => (a > 0 && a < 1 ? a : 0));
      const ours = foregroundMse(foreground!, scene.foreground, edge);
      const frameAsFg = foregroundMse(scene.frame, scene.foreground, edge);
      expect(ours, scene.name).toBeLessThan(0.6 * frameAsFg);
    }
  });

  it('returns straight RGBA whose alpha channel is the alpha output', async () => {
    const scene = makeScene('rgba', { width: 320, height: 180, noise: 1 });
    const { alpha, foreground } = await session.run(scene.frame, scene.plate);
    expect(foreground!.channels).toBe(4);
    for (let i = 0; i < alpha.data.length; i += 97) expect(foreground!.data[i * 4 + 3]).toBe(alpha.data[i]);
  });

  it('gives the same alpha when the foreground is not asked for', async () => {
    const scene = makeScene('alpha-only', { width: 320, height: 180, noise: 1 });
    const both = await session.run(scene.frame, scene.plate, { foreground: true });
    const alphaOnly = await session.run(scene.frame, scene.plate, { foreground: false });
    expect(alphaOnly.foreground).toBeUndefined();
    expect(Buffer.from(alphaOnly.alpha.data).equals(Buffer.from(both.alpha.data))).toBe(true);
  });
});

describe('plate model geometry', () => {
  it('keeps edges in place at every low-resolution factor (the upsampling shift is compensated)', async () => {
    // Left of column `edge` is subject (red), right is plate (grey): alpha must cross 0.5 there.
    for (const width of [400, 1000, 2600]) {
      const height = 64;
      const k = downsampleFactor(width);
      const edge = Math.round(width * 0.45) + 0.5; // between two pixels
      const plate = solid(width, height, [110, 120, 115]);
      const frame = solid(width, height, [110, 120, 115]);
      for (let y = 0; y < height; y++) for (let x = 0; x < edge; x++) frame.data.set([220, 40, 40], (y * width + x) * 3);
      const { alpha } = await session.run(frame, plate, { foreground: false });
      const row = alpha.data.subarray((height / 2) * width, (height / 2 + 1) * width);
      const crossing = row.findIndex((v) => v < 128);
      expect(Math.abs(crossing - edge), `width ${width}, k=${k}`).toBeLessThanOrEqual(1);
      expect(row[0]).toBe(255);
      expect(row[width - 1]).toBe(0);
    }
  });

  it('handles sizes that are not multiples of the factor, and RGBA frames', async () => {
    const scene = makeScene('odd', { width: 333, height: 187, noise: 1 });
    const rgba = (f: Frame): Frame => {
      const data = new Uint8Array(f.width * f.height * 4);
      for (let i = 0; i < f.width * f.height; i++) data.set([...f.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
      return { data, width: f.width, height: f.height, channels: 4 };
    };
    const rgb = await session.run(scene.frame, scene.plate);
    const four = await session.run(rgba(scene.frame), rgba(scene.plate));
    expect(rgb.alpha.data.length).toBe(333 * 187);
    expect(rgb.foreground!.data.length).toBe(333 * 187 * 4);
    expect(Buffer.from(four.alpha.data).equals(Buffer.from(rgb.alpha.data))).toBe(true);
    const naive = oracleNaiveKey(scene.frame, scene.plate, scene.alpha);
    expect(sad(rgb.alpha, scene.alpha)).toBeLessThan(naive.sad);
  });

  it('reports an error map at low resolution that marks edges, not flat areas', async () => {
    const scene = makeScene('err', { width: 640, height: 360, noise: 1.5, softEdge: 3 });
    const { error } = await session.run(scene.frame, scene.plate);
    const k = downsampleFactor(640);
    expect(error!.width).toBe(640 / k);
    const at = (x: number, y: number) => error!.data[Math.floor(y / k) * error!.width + Math.floor(x / k)]!;
    // Plate corner and torso centre are sure; somewhere along the torso's edge row is not.
    expect(at(10, 10)).toBeLessThan(30);
    expect(at(320, 320)).toBeLessThan(30);
    const edgeRow = Array.from({ length: 640 }, (_, x) => at(x, Math.round(0.85 * 360)));
    expect(Math.max(...edgeRow)).toBeGreaterThan(60);
  });
});

describe('plate model on plates that match', () => {
  it('finds nothing when the frame is the plate, even after an exposure change and noise', async () => {
    const scene = makeScene('empty', { width: 480, height: 270, noise: 2, seed: 3 });
    const empty = await session.run(scene.plate, scene.plate, { foreground: false });
    expect(empty.alpha.data.reduce((m, v) => Math.max(m, v), 0)).toBe(0);
    // Another capture of the same plate (fresh noise), 5% brighter: still (almost) nothing.
    const again = makeScene('again', { width: 480, height: 270, noise: 2, seed: 4 });
    const brighter: Frame = { ...again.plate, data: again.plate.data.map((v) => Math.min(255, Math.round(v * 1.05))) };
    const { alpha } = await session.run(brighter, scene.plate, { foreground: false });
    const lit = alpha.data.reduce((n, v) => n + (v > 127 ? 1 : 0), 0);
    expect(lit / alpha.data.length).toBeLessThan(0.002);
  });
});

describe('plate model input checks', () => {
  const scene = makeScene('checks', { width: 64, height: 48 });
  const expectError = async (p: Promise<unknown>, code: string) => {
    const err = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(MattingInputError);
    expect((err as MattingInputError).code).toBe(code);
  };

  it('refuses a missing plate, a plate of another size, and buffers that do not match their size', async () => {
    await expectError(session.run(scene.frame), 'plate_required');
    await expectError(session.run(scene.frame, solid(65, 48, [0, 0, 0])), 'plate_size_mismatch');
    await expectError(session.run({ ...scene.frame, data: scene.frame.data.subarray(10) }, scene.plate), 'bad_frame');
    await expectError(session.run(solid(8, 8, [0, 0, 0]), solid(8, 8, [0, 0, 0])), 'bad_frame');
    await expectError(session.run({ data: new Uint8Array(3), width: 9000, height: 16, channels: 3 }, scene.plate), 'frame_too_large');
  });
});
