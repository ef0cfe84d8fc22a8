// The gradient and connectivity errors of the quality bench, on tiny hand-checked cases.
import { describe, expect, it } from 'vitest';
import type { Plane } from '../../src/engine/frame.js';
import { connectivityError, gradientError, gradientKernels } from '../../src/eval/metrics.js';
import { rng } from '../../src/eval/synthetic.js';

const plane = (width: number, height: number, values: number[]): Plane => ({ data: Uint8Array.from(values), width, height });
const truthOf = (values: number[]) => Float32Array.from(values);

describe('gradient error (Gaussian-derivative magnitudes, sigma 1.4)', () => {
  it('uses 9 taps at sigma 1.4 (radius where the Gaussian density falls to 1%), each kernel of unit norm', () => {
    // 1.4 * sqrt(-2 ln(sqrt(2 pi) * 1.4 * 0.01)) = 3.62 -> radius 4.
    const { gauss, deriv } = gradientKernels(1.4);
    expect(gauss.length).toBe(9);
    expect(deriv.length).toBe(9);
    expect(gauss.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
    expect(deriv.reduce((s, v) => s + v * v, 0)).toBeCloseTo(1, 12);
    expect(Math.abs(deriv[4]!)).toBe(0);
    expect(deriv[3]).toBeCloseTo(-deriv[5]!, 15);
  });

  it('is zero for equal mattes and for mattes that differ by a constant', () => {
    const truth = truthOf(Array.from({ length: 6 * 5 }, (_, i) => (i % 6 > 2 ? 1 : 0)));
    const same = plane(
      6,
      5,
      Array.from(truth, (a) => a * 255),
    );
    expect(gradientError(same, truth)).toBe(0);
    const flatPred = plane(6, 5, new Array(30).fill(200));
    expect(gradientError(flatPred, truthOf(new Array(30).fill(0.3)))).toBeCloseTo(0, 12);
  });

  it('grows with the square of an edge missing from the prediction', () => {
    const step = (h: number) => truthOf(Array.from({ length: 8 * 4 }, (_, i) => (i % 8 >= 4 ? h : 0)));
    const empty = plane(8, 4, new Array(32).fill(0));
    const full = gradientError(empty, step(1));
    expect(full).toBeGreaterThan(0);
    expect(gradientError(empty, step(0.5))).toBeCloseTo(full / 4, 12);
  });

  it('matches the 2-D definition computed directly (replicated borders, sum of squared differences / 1000)', () => {
    const W = 7;
    const H = 6;
    const rand = rng(3);
    const pred = plane(
      W,
      H,
      Array.from({ length: W * H }, () => Math.floor(rand() * 256)),
    );
    const truth = truthOf(Array.from({ length: W * H }, () => rand()));
    const sigma = 1.4;
    const r = 4;
    // Hx(u, v) = -u exp(-(u^2 + v^2) / 2 sigma^2), scaled to unit norm; Hy is its transpose.
    let norm = 0;
    for (let v = -r; v <= r; v++) for (let u = -r; u <= r; u++) norm += (u * Math.exp(-(u * u + v * v) / (2 * sigma * sigma))) ** 2;
    const h = (u: number, v: number) => (-u * Math.exp(-(u * u + v * v) / (2 * sigma * sigma))) / Math.sqrt(norm);
    const clamp = (x: number, n: number) => Math.min(n - 1, Math.max(0, x));
    const magnitude = (at: (x: number, y: number) => number) =>
      Array.from({ length: W * H }, (_, i) => {
        const x = i % W;
        const y = Math.floor(i / W);
        let gx = 0;
        let gy = 0;
        for (let v = -r; v <= r; v++) {
          for (let u = -r; u <= r; u++) {
            const p = at(clamp(x - u, W), clamp(y - v, H));
            gx += h(u, v) * p;
            gy += h(v, u) * p;
          }
        }
        return Math.hypot(gx, gy);
      });
    const mp = magnitude((x, y) => pred.data[y * W + x]! / 255);
    const mt = magnitude((x, y) => truth[y * W + x]!);
    const expected = mp.reduce((s, m, i) => s + (m - mt[i]!) ** 2, 0) / 1000;
    expect(expected).toBeGreaterThan(0);
    expect(gradientError(pred, truth)).toBeCloseTo(expected, 6);
  });
});

describe('connectivity error (threshold step 0.1)', () => {
  it('is zero for equal mattes', () => {
    const levels = [0, 51, 255, 255, 153, 0, 255, 255, 102];
    expect(connectivityError(plane(3, 3, levels), truthOf(levels.map((v) => v / 255)))).toBeCloseTo(0, 12);
  });

  it('counts a stray opaque pixel detached from the subject at full strength', () => {
    // Pixel 4 (0.902) is background in the truth, so it leaves the source region at t = 0.1:
    // l = 0, phi(pred) = 1 - 0.902, phi(truth) = 1 -> error 0.902 / 1000.
    const err = connectivityError(plane(5, 1, [255, 255, 0, 0, 230]), truthOf([1, 1, 0, 0, 0]));
    expect(err).toBeCloseTo(230 / 255 / 1000, 9);
  });

  it('forgives a pixel that stays connected to the subject as long as the truth does', () => {
    // Pixel 2 is in the region up to t = 0.5 in both (l = 0.5): d = 0.002 and 0, both below 0.15
    // -> no error. Pixel 4 is detached (l = 0): phi(pred) = 1 - 0.502 -> 0.502 / 1000.
    const err = connectivityError(plane(5, 1, [255, 255, 128, 0, 128]), truthOf([1, 1, 0.5, 0, 0]));
    expect(err).toBeCloseTo(128 / 255 / 1000, 9);
  });

  it('uses 4-connectivity: a diagonal neighbour is not connected', () => {
    // The corner pixel touches the 2x2 block only diagonally, so it leaves at t = 0.1 (l = 0):
    // phi(pred) = 1 - 0.902, phi(truth) = 1 - 1 -> 0.098 / 1000. With 8-connectivity it would stay
    // connected up to t = 0.9 (l = 0.9), both d < 0.15, and the error would be 0.
    const truth = truthOf([1, 1, 0, 1, 1, 0, 0, 0, 1]);
    const pred = plane(3, 3, [255, 255, 0, 255, 255, 0, 0, 0, 230]);
    expect(connectivityError(pred, truth)).toBeCloseTo((1 - 230 / 255) / 1000, 9);
  });
});
