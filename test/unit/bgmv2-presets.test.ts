// Frame-size rules of the BGMv2 presets: padding to what an export accepts, and preset choice.
import { describe, expect, it } from 'vitest';
import { bgmv2Settings, paddedSize, pickPreset } from '../../src/engine/matting/bgmv2/presets.js';
import { HD_ID, K4_ID, repoManifest } from '../support/bgmv2-models.js';

describe('bgmv2 presets', () => {
  it("the manifest records the authors' settings for the two official exports", async () => {
    const models = (await repoManifest()).models;
    const hd = models.find((m) => m.id === HD_ID)!;
    const k4 = models.find((m) => m.id === K4_ID)!;
    expect(bgmv2Settings(hd)).toEqual({ preset: 'hd', backboneScale: 0.25, refineMode: 'sampling', refineSamplePixels: 80_000, maxPixels: 2560 * 1440 });
    expect(bgmv2Settings(k4)).toEqual({ preset: '4k', backboneScale: 0.125, refineMode: 'sampling', refineSamplePixels: 320_000, maxPixels: null });
    for (const m of [hd, k4]) {
      expect(m.url).toMatch(/^https:\/\/github\.com\/PeterL1n\/BackgroundMattingV2\/releases\/download\/v1\.0\.0\/onnx_mobilenetv2_(hd|4k)\.onnx$/);
      expect(m.licence).toMatch(/^MIT/);
    }
    expect(models.find((m) => m.id === 'bgmv2')).toMatchObject({ file: null, variants: [HD_ID, K4_ID] });
    expect(() => bgmv2Settings({ ...hd, settings: { ...hd.settings, refineMode: 'fast' } })).toThrow(/refineMode/);
  });

  it('pads to multiples of 4 and no further when the frame is big enough', () => {
    const hd = { refineMode: 'sampling', refineSamplePixels: 80_000 } as const;
    expect(paddedSize(1920, 1080, hd)).toEqual({ width: 1920, height: 1080 });
    expect(paddedSize(1921, 1079, hd)).toEqual({ width: 1924, height: 1080 });
    expect(paddedSize(3840, 2160, { refineMode: 'sampling', refineSamplePixels: 320_000 })).toEqual({ width: 3840, height: 2160 });
  });

  it("pads small frames until they hold the refiner's sample of 4x4 patches, keeping their shape roughly", () => {
    for (const [w, h, pixels] of [
      [320, 180, 80_000],
      [17, 16, 80_000],
      [1280, 16, 80_000],
      [640, 360, 320_000],
    ] as const) {
      const p = paddedSize(w, h, { refineMode: 'sampling', refineSamplePixels: pixels });
      expect(p.width % 4).toBe(0);
      expect(p.height % 4).toBe(0);
      expect(p.width).toBeGreaterThanOrEqual(w);
      expect(p.height).toBeGreaterThanOrEqual(h);
      expect((p.width / 4) * (p.height / 4)).toBeGreaterThanOrEqual(pixels / 16);
      // Not grossly more than needed (a few rows/columns of slack at most).
      expect(p.width * p.height).toBeLessThan(pixels * 1.1 + 4 * (p.width + p.height));
    }
    // Thresholding exports have no TopK: only the multiple of 4 matters.
    expect(paddedSize(17, 16, { refineMode: 'thresholding', refineSamplePixels: 80_000 })).toEqual({ width: 20, height: 16 });
  });

  it('picks the smallest preset that covers the frame, else the largest', () => {
    const hd = { id: 'hd', settings: { preset: 'hd', backboneScale: 0.25, refineMode: 'sampling', refineSamplePixels: 80_000, maxPixels: 2560 * 1440 } } as const;
    const k4 = { id: '4k', settings: { preset: '4k', backboneScale: 0.125, refineMode: 'sampling', refineSamplePixels: 320_000, maxPixels: null } } as const;
    expect(pickPreset([k4, hd], 1280, 720).id).toBe('hd');
    expect(pickPreset([k4, hd], 2560, 1440).id).toBe('hd');
    expect(pickPreset([k4, hd], 2560, 1441).id).toBe('4k');
    expect(pickPreset([hd], 3840, 2160).id).toBe('hd');
    expect(pickPreset([k4], 640, 360).id).toBe('4k');
    expect(() => pickPreset([], 640, 360)).toThrow();
  });
});
