// The default live size: from measured model times (a cost function stands in for the engine's
// measurements here; the real endpoint is tested in engine-http.test.ts).
import { describe, expect, it } from 'vitest';
import { chooseLiveSize } from '../../src/obs/live-size.js';

/** A model whose time grows with pixels (ms per megapixel), recording the sizes measured. */
function model(msPerMegapixel: number, fixedMs = 0) {
  const measured: string[] = [];
  return {
    measured,
    measure: async (w: number, h: number) => {
      measured.push(`${w}x${h}`);
      return fixedMs + (msPerMegapixel * w * h) / 1e6;
    },
  };
}

describe('chooseLiveSize', () => {
  it('keeps the source size when the model is fast enough there', async () => {
    const m = model(20); // 1080p: ~41 ms < 66 ms
    expect(await chooseLiveSize({ width: 1920, height: 1080 }, m.measure)).toMatchObject({ width: 1920, height: 1080, targetFps: 15 });
  });

  it('steps down to the largest width that keeps up with the target', async () => {
    const m = model(200); // 640x360: 46 ms; 960x540: 104 ms
    const choice = await chooseLiveSize({ width: 1920, height: 1080 }, m.measure);
    expect(choice).toMatchObject({ width: 640, height: 360 });
    expect(choice.msPerFrame).toBeCloseTo(46.08, 1);
    expect(m.measured).toEqual(['640x360']);
    // A higher target asks for less.
    expect(await chooseLiveSize({ width: 1920, height: 1080 }, model(200).measure, 30)).toMatchObject({ width: 480, height: 270 });
  });

  it('measures the estimate and steps down when the real time is higher (a fixed cost per frame)', async () => {
    const m = model(50, 50); // 640x360: 61.5 ms (fits); the estimate ignores the fixed cost
    const choice = await chooseLiveSize({ width: 1920, height: 1080 }, m.measure);
    expect(choice.width).toBe(640);
    expect(m.measured[0]).toBe('640x360');
    expect(m.measured.length).toBeLessThanOrEqual(3);
  });

  it('ends at the smallest width for a model too slow anywhere, and never above the source width', async () => {
    expect(await chooseLiveSize({ width: 1920, height: 1080 }, model(5000).measure)).toMatchObject({ width: 320, height: 180 });
    const small = model(1);
    expect(await chooseLiveSize({ width: 400, height: 300 }, small.measure)).toMatchObject({ width: 400, height: 300 });
    expect(small.measured).toEqual(['400x300']);
  });
});
