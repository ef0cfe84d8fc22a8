// The `plate` model's hard edges (settings.hardEdges, plate/hard-edges.ts): along a solid,
// textured subject's edge alpha comes from the compositing equation on the tiles that hold the
// edge; it only ever adds subject, and a cast shadow stays background.
import { afterAll, describe, expect, it } from 'vitest';
import { defaultPlateSettings } from '../../src/engine/matting/plate/settings.js';
import { PlateSession } from '../../src/engine/matting/plate/session.js';
import type { Frame } from '../../src/engine/frame.js';
import { sad } from '../../src/eval/metrics.js';
import { castShadow, composite, sensorNoise } from '../../src/eval/perturb.js';

const on = new PlateSession('plate', defaultPlateSettings, ['cpu']);
const off = new PlateSession('plate', { ...defaultPlateSettings, hardEdges: false }, ['cpu']);
afterAll(() => Promise.all([on.dispose(), off.dispose()]));

/** A warm, vertically corrugated plate and a box of grey slats of another period over it: hard
 * edges, a subject whose own texture makes |I - B| dip, the plate's texture beside it. */
function corrugated(width: number, height: number) {
  const plate = new Uint8Array(width * height * 3);
  const fgr = new Float32Array(width * height * 3);
  const alpha = new Float32Array(width * height);
  const [x0, x1, y0, y1] = [0.3 * width, 0.7 * width, 0.25 * height, 0.8 * height].map(Math.round) as [number, number, number, number];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = y * width + x;
      const wall = 150 + 45 * Math.sin((2 * Math.PI * x) / 5);
      plate.set([wall + 30, wall, wall - 40], 3 * i);
      const slat = (x % 9) / 9 < 0.5 ? 0.25 : 0.55;
      fgr.set([slat, slat, slat * 0.95], 3 * i);
      alpha[i] = x >= x0 && x < x1 && y >= y0 && y < y1 ? 1 : 0;
    }
  }
  const platef: Frame = { data: plate, width, height, channels: 3 };
  return { plate: platef, foreground: fgr, alpha };
}

const meanWhere = (a: Uint8Array, mask: Float32Array, want: 0 | 1) => {
  let s = 0;
  let n = 0;
  mask.forEach((m, i) => {
    if (m === want) {
      s += a[i]!;
      n++;
    }
  });
  return s / 255 / n;
};

describe('plate model hard edges', () => {
  const scene = corrugated(640, 360);
  const frame = sensorNoise(composite(scene), { read: 1.5, shot: 0.01, seed: 3 });
  const plate = sensorNoise(scene.plate, { read: 1.5, shot: 0.01, seed: 4 });

  it('a textured box over a textured plate: lower SAD than the guided filter alone, never less alpha', async () => {
    const a = (await on.run(frame, plate, { foreground: false })).alpha;
    const b = (await off.run(frame, plate, { foreground: false })).alpha;
    const [withHard, without] = [sad(a, scene.alpha), sad(b, scene.alpha)];
    console.log(`corrugated box: SAD ${withHard.toFixed(3)} with hard edges, ${without.toFixed(3)} without`);
    expect(withHard).toBeLessThan(0.97 * without);
    expect(a.data.every((v, i) => v >= b.data[i]!)).toBe(true);
    expect(meanWhere(a.data, scene.alpha, 0)).toBeLessThan(0.01);
  });

  it('a cast shadow beside the box stays background', async () => {
    const s = 360;
    const shadowed = sensorNoise(castShadow(scene, { dx: 0.09 * s, dy: 0.03 * s, blur: 0.03 * s, strength: 0.35 }), { read: 1.5, shot: 0.01, seed: 5 });
    const a = (await on.run(shadowed, plate, { foreground: false })).alpha;
    const b = (await off.run(shadowed, plate, { foreground: false })).alpha;
    expect(meanWhere(a.data, scene.alpha, 0)).toBeLessThan(meanWhere(b.data, scene.alpha, 0) + 0.003);
  });

  it('no subject at all (no tile to work on) and sizes that need padding or no downscale', async () => {
    for (const [w, h] of [
      [640, 360],
      [1001, 563],
      [203, 117],
    ] as const) {
      const small = corrugated(w, h);
      const still = sensorNoise(small.plate, { read: 1.5, shot: 0.01, seed: 6 });
      const empty = (await on.run(still, small.plate, { foreground: true })).alpha;
      expect(
        empty.data.reduce((m, v) => Math.max(m, v), 0),
        `${w}x${h} without subject`,
      ).toBeLessThan(64);
      const boxed = sensorNoise(composite(small), { read: 1.5, shot: 0.01, seed: 7 });
      const a = (await on.run(boxed, small.plate, { foreground: true })).alpha;
      const b = (await off.run(boxed, small.plate, { foreground: true })).alpha;
      expect(sad(a, small.alpha), `${w}x${h}`).toBeLessThanOrEqual(sad(b, small.alpha));
    }
  });
});
