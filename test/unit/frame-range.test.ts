import { describe, expect, it } from 'vitest';
import { MediaInputError } from '../../src/engine/media/errors.js';
import { frameAt, framesBefore, frameStart, parseRational, resolveRange } from '../../src/engine/media/frame-range.js';

const NTSC = { num: 30000, den: 1001 };

describe('frame-range', () => {
  it('parses rational rates and rejects junk', () => {
    expect(parseRational('30000/1001')).toEqual(NTSC);
    expect(parseRational('25')).toEqual({ num: 25, den: 1 });
    expect(parseRational('0/0')).toBeUndefined();
    expect(parseRational('abc')).toBeUndefined();
  });

  it('maps a time to the frame whose presentation interval contains it', () => {
    expect(frameAt(0, NTSC)).toBe(0);
    expect(frameAt(12.5, NTSC)).toBe(374); // 12.5 * 29.97 = 374.63
    expect(frameAt(1 / 25 - 1e-4, { num: 25, den: 1 })).toBe(0);
    expect(frameAt(1 / 25, { num: 25, den: 1 })).toBe(1);
  });

  it('survives float noise on exact frame starts (times computed from ticks)', () => {
    for (let i = 0; i < 5000; i += 7) {
      const t = (i * 1001) / 30000;
      expect(frameAt(t, NTSC)).toBe(i);
      expect(frameAt(frameStart(i, NTSC), NTSC)).toBe(i);
      expect(framesBefore(t, NTSC)).toBe(i);
    }
  });

  it('resolves half-open ranges in seconds and frames', () => {
    const fps60 = { num: 60, den: 1 };
    expect(resolveRange({ in: 0.5, out: 1.0 }, fps60, 120)).toEqual({ first: 30, count: 30 });
    // An out point inside a frame includes that frame (it starts before out).
    expect(resolveRange({ in: 0.5, out: 1.001 }, fps60, 120)).toEqual({ first: 30, count: 31 });
    expect(resolveRange({ in: 10, out: 20, unit: 'frames' }, fps60, 120)).toEqual({ first: 10, count: 10 });
    expect(resolveRange(undefined, fps60, 120)).toEqual({ first: 0, count: 120 });
    expect(resolveRange({ in: 0, out: 2 }, fps60, 120)).toEqual({ first: 0, count: 120 });
  });

  it('refuses ranges that are empty, inverted or outside the media, saying what the media holds', () => {
    const fps25 = { num: 25, den: 1 };
    const code = (f: () => unknown): string => {
      try {
        f();
      } catch (err) {
        return err instanceof MediaInputError ? `${err.code}: ${err.message}` : String(err);
      }
      return 'no error';
    };
    expect(code(() => resolveRange({ in: 1, out: 1 }, fps25, 50))).toMatch(/^bad_range/);
    expect(code(() => resolveRange({ in: -1, out: 1 }, fps25, 50))).toMatch(/^bad_range/);
    expect(code(() => resolveRange({ in: 1.5, out: 2.5 }, fps25, 50))).toMatch(/^range_outside_media: .*50 frames/);
    expect(code(() => resolveRange({ in: 50, out: 51, unit: 'frames' }, fps25, 50))).toMatch(/^range_outside_media/);
    expect(code(() => resolveRange({ in: 1.5, out: 2.5, unit: 'frames' }, fps25, 50))).toMatch(/^bad_range/);
    expect(resolveRange({ in: 1, out: 1.01 }, fps25, 50)).toEqual({ first: 25, count: 1 });
  });
});
