// Perturbations of the quality bench on small frames: deterministic, pure, and doing what they say
// (JPEG through sharp, H.264 through the real ffmpeg).
import { describe, expect, it } from 'vitest';
import type { Frame } from '../../src/engine/frame.js';
import { castShadow, composite, exposureWhiteBalance, h264RoundTrip, jpegRoundTrip, sensorNoise, shiftRotate, type Composite } from '../../src/eval/perturb.js';

function solid(width: number, height: number, rgb: readonly [number, number, number]): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(rgb, 3 * i);
  return { data, width, height, channels: 3 };
}

/** A smooth colour ramp: what compression keeps well. */
function ramp(width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) data.set([40 + (150 * x) / width, 60 + (120 * y) / height, 120], 3 * (y * width + x));
  }
  return { data, width, height, channels: 3 };
}

const meanAbsDiff = (a: Frame, b: Frame) => a.data.reduce((s, v, i) => s + Math.abs(v - b.data[i]!), 0) / a.data.length;

describe('sensor noise', () => {
  const grey = solid(64, 64, [128, 128, 128]);

  it('is deterministic per seed and leaves its input alone', () => {
    const before = new Uint8Array(grey.data);
    const a = sensorNoise(grey, { read: 4, seed: 1 });
    expect(sensorNoise(grey, { read: 4, seed: 1 }).data).toEqual(a.data);
    expect(sensorNoise(grey, { read: 4, seed: 2 }).data).not.toEqual(a.data);
    expect(grey.data).toEqual(before);
  });

  it('has the asked standard deviation: read noise, plus shot noise growing with the level', () => {
    const std = (f: Frame) => {
      const mean = f.data.reduce((s, v) => s + v, 0) / f.data.length;
      return Math.sqrt(f.data.reduce((s, v) => s + (v - mean) ** 2, 0) / f.data.length);
    };
    expect(std(sensorNoise(grey, { read: 4, seed: 3 }))).toBeGreaterThan(3.7);
    expect(std(sensorNoise(grey, { read: 4, seed: 3 }))).toBeLessThan(4.3);
    // read 2, shot 0.25 at level 128: sqrt(4 + 32) = 6.
    const shot = std(sensorNoise(grey, { read: 2, shot: 0.25, seed: 4 }));
    expect(shot).toBeGreaterThan(5.6);
    expect(shot).toBeLessThan(6.4);
  });
});

describe('exposure and white balance', () => {
  it('works in linear light: +1 stop takes sRGB level 100 to 138, -1 stop to 71', () => {
    const f = solid(2, 2, [100, 100, 100]);
    expect(Array.from(exposureWhiteBalance(f, { stops: 1, whiteBalance: [1, 1, 1] }).data.slice(0, 3))).toEqual([138, 138, 138]);
    expect(Array.from(exposureWhiteBalance(f, { stops: -1, whiteBalance: [1, 1, 1] }).data.slice(0, 3))).toEqual([71, 71, 71]);
  });

  it('is the identity at 0 stops and neutral balance; white balance moves each channel on its own', () => {
    const f = ramp(16, 8);
    expect(exposureWhiteBalance(f, { stops: 0, whiteBalance: [1, 1, 1] }).data).toEqual(f.data);
    const warm = exposureWhiteBalance(solid(2, 2, [100, 100, 100]), { stops: 0, whiteBalance: [2, 1, 0.5] });
    expect(Array.from(warm.data.slice(0, 3))).toEqual([138, 100, 71]);
  });
});

describe('shift and rotation of the plate', () => {
  const dot = (x: number, y: number): Frame => {
    const f = solid(5, 5, [0, 0, 0]);
    f.data.set([255, 255, 255], 3 * (y * 5 + x));
    return f;
  };
  const at = (f: Frame, x: number, y: number) => f.data[3 * (y * f.width + x)]!;

  it('moves content by whole pixels exactly and splits a half-pixel shift between neighbours', () => {
    const moved = shiftRotate(dot(1, 2), { dx: 2, dy: 1, degrees: 0 });
    expect(at(moved, 3, 3)).toBe(255);
    expect(at(moved, 1, 2)).toBe(0);
    expect(moved.data.reduce((s, v) => s + v, 0)).toBe(3 * 255);
    const half = shiftRotate(dot(1, 2), { dx: 0.5, dy: 0, degrees: 0 });
    expect(at(half, 1, 2)).toBe(128); // 127.5 rounds up
    expect(at(half, 2, 2)).toBe(128);
  });

  it('rotates clockwise on screen about the centre (90 degrees takes left-middle to top-middle)', () => {
    const turned = shiftRotate(dot(0, 2), { dx: 0, dy: 0, degrees: 90 });
    expect(at(turned, 2, 0)).toBe(255);
    expect(turned.data.reduce((s, v) => s + v, 0)).toBe(3 * 255);
  });

  it('is the identity without shift or rotation', () => {
    const f = ramp(12, 7);
    expect(shiftRotate(f, { dx: 0, dy: 0, degrees: 0 }).data).toEqual(f.data);
  });
});

describe('compression round trips', () => {
  const noisy = sensorNoise(ramp(48, 32), { read: 8, seed: 5 });

  it('JPEG keeps size and smooth content, and loses detail', async () => {
    const smooth = ramp(48, 32);
    const out = await jpegRoundTrip(smooth, 75);
    expect([out.width, out.height, out.channels]).toEqual([48, 32, 3]);
    expect(meanAbsDiff(out, smooth)).toBeLessThan(3);
    expect(meanAbsDiff(await jpegRoundTrip(noisy, 75), noisy)).toBeGreaterThan(1);
  });

  it('H.264 through ffmpeg keeps size (odd sizes too) and smooth content of every frame given, and loses detail', async () => {
    const smooth = ramp(97, 55);
    const [out, again] = await h264RoundTrip([smooth, smooth], { crf: 26 });
    expect([out!.width, out!.height, out!.channels]).toEqual([97, 55, 3]);
    expect(meanAbsDiff(out!, smooth)).toBeLessThan(3.5);
    expect(meanAbsDiff(again!, smooth)).toBeLessThan(3.5);
    const [lossy] = await h264RoundTrip([noisy], { crf: 26 });
    expect(meanAbsDiff(lossy!, noisy)).toBeGreaterThan(1);
  });
});

describe('composite and cast shadow', () => {
  // 12x4: an opaque subject in columns 2-3, the rest background.
  const W = 12;
  const H = 4;
  const scene: Composite = {
    plate: solid(W, H, [200, 160, 120]),
    alpha: Float32Array.from({ length: W * H }, (_, i) => (i % W === 2 || i % W === 3 ? 1 : 0)),
    foreground: Float32Array.from({ length: W * H * 3 }, () => 0.2),
  };
  const px = (f: Frame, x: number, y = 1) => Array.from(f.data.slice(3 * (y * W + x), 3 * (y * W + x) + 3));

  it('composes alpha F + (1 - alpha) B', () => {
    const f = composite(scene);
    expect(px(f, 2)).toEqual([51, 51, 51]);
    expect(px(f, 8)).toEqual([200, 160, 120]);
  });

  it('darkens the background where the offset silhouette falls, not the subject or far away', () => {
    const shadowed = castShadow(scene, { dx: 3, dy: 0, blur: 0, strength: 0.5 });
    expect(px(shadowed, 5)).toEqual([100, 80, 60]); // behind the shifted silhouette
    expect(px(shadowed, 2)).toEqual([51, 51, 51]); // the subject itself
    expect(px(shadowed, 10)).toEqual([200, 160, 120]);
    expect(castShadow(scene, { dx: 3, dy: 0, blur: 0, strength: 0 }).data).toEqual(composite(scene).data);
    // A penumbra: with blur the shadow spreads beyond the silhouette, weaker.
    const soft = castShadow(scene, { dx: 3, dy: 0, blur: 1.5, strength: 0.5 });
    expect(px(soft, 7)[0]).toBeLessThan(200);
    expect(px(soft, 7)[0]).toBeGreaterThan(100);
  });
});
