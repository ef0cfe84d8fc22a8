// The bgmv2 model kind end to end on a real onnxruntime session: a contract fixture saved under
// the official file names in a temp models folder, opened through the registry with the
// repository's real manifest entries (HD: 80,000 refine pixels, 4K: 320,000).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bgmv2PresetSession, Bgmv2Session } from '../../src/engine/matting/bgmv2/session.js';
import { MattingInputError } from '../../src/engine/matting/errors.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { MattingSession } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { expectedMatte, expectedPixel } from '../support/bgmv2-fixture.js';
import { fixtureFor, HD_ID, K4_ID, makeModelsDir, removeTempDirs, snapshot } from '../support/bgmv2-models.js';
import { maxDiff, texturedPlate, withSquare } from '../support/images.js';

function scene(width: number, height: number, channels: 3 | 4 = 3): { frame: Frame; plate: Frame } {
  const plate = texturedPlate(width, height, 7);
  const frame = withSquare(plate, { x: Math.floor(width / 4), y: Math.floor(height / 4), size: Math.floor(Math.min(width, height) / 2), color: [200, 40, 90] });
  if (channels === 3) return { frame, plate };
  const rgba = (f: Frame): Frame => {
    const data = new Uint8Array(f.width * f.height * 4);
    for (let i = 0; i < f.width * f.height; i++) data.set([f.data[i * 3]!, f.data[i * 3 + 1]!, f.data[i * 3 + 2]!, (i * 37) % 256], i * 4);
    return { ...f, data, channels: 4 };
  };
  return { frame: rgba(frame), plate: rgba(plate) };
}

async function expectMatches(session: MattingSession, width: number, height: number, channels: 3 | 4 = 3): Promise<void> {
  const { frame, plate } = scene(width, height, channels);
  const result = await session.run(frame, plate);
  const want = expectedMatte(frame, plate);
  expect([result.alpha.width, result.alpha.height]).toEqual([width, height]);
  expect(maxDiff(result.alpha.data, want.alpha)).toBeLessThanOrEqual(1);
  expect(result.foreground).toBeDefined();
  expect([result.foreground!.width, result.foreground!.height, result.foreground!.channels]).toEqual([width, height, 4]);
  expect(maxDiff(result.foreground!.data, want.foreground)).toBeLessThanOrEqual(1);
  expect(result.error).toBeDefined();
  expect([result.error!.width, result.error!.height]).toEqual([want.error.width, want.error.height]);
  expect(maxDiff(result.error!.data, want.error.data)).toBeLessThanOrEqual(1);
  // The subject is really there: alpha high inside the square, zero on the untouched plate.
  expect(result.alpha.data[Math.floor(height / 2) * width + Math.floor(width / 2)]).toBe(255);
  expect(result.alpha.data[0]).toBe(0);
}

describe('bgmv2 sessions on the contract fixture', () => {
  let dir: string;
  let registry: ModelRegistry;
  const open: MattingSession[] = [];
  const openModel = async (id: string) => {
    const s = await registry.open(id);
    open.push(s);
    return s;
  };

  beforeAll(async () => {
    dir = await makeModelsDir({ [HD_ID]: await fixtureFor(HD_ID), [K4_ID]: await fixtureFor(K4_ID) });
    registry = await ModelRegistry.load(dir);
  });
  afterAll(async () => {
    await Promise.all(open.map((s) => s.dispose()));
    await removeTempDirs();
  });

  it('gives the expected alpha, foreground and error within 1/255, padding any size to what the export accepts', async () => {
    const hd = await openModel(HD_ID);
    expect(hd).toBeInstanceOf(Bgmv2Session);
    expect(hd.provider).toBe('cpu');
    // Multiples of 4 and big enough; odd sizes (pad to a multiple of 4); too small for the
    // refiner's 80,000-pixel TopK (the fixture refuses it unpadded, like the real export).
    for (const [w, h] of [
      [320, 256],
      [333, 247],
      [64, 48],
      [17, 16],
    ] as const) {
      await expectMatches(hd, w, h);
    }
    await expectMatches(hd, 97, 61, 4); // RGBA frames: their alpha is ignored
  });

  it('skips the foreground when asked', async () => {
    const hd = await openModel(HD_ID);
    const { frame, plate } = scene(64, 48);
    const result = await hd.run(frame, plate, { foreground: false });
    expect(result.foreground).toBeUndefined();
    expect(maxDiff(result.alpha.data, expectedMatte(frame, plate).alpha)).toBeLessThanOrEqual(1);
  });

  it('has no error plane when the export has no err_sm (and runs an opset 11 export)', async () => {
    const minimal = await makeModelsDir({ [HD_ID]: await fixtureFor(HD_ID, { debugOutputs: false, opset: 11 }) });
    const session = await (await ModelRegistry.load(minimal)).open(HD_ID);
    open.push(session);
    const { frame, plate } = scene(64, 48);
    const result = await session.run(frame, plate);
    expect(result.error).toBeUndefined();
    expect(maxDiff(result.alpha.data, expectedMatte(frame, plate).alpha)).toBeLessThanOrEqual(1);
  });

  it('needs a plate of the frame size', async () => {
    const hd = await openModel(HD_ID);
    const { frame } = scene(64, 48);
    await expect(hd.run(frame)).rejects.toMatchObject({ code: 'plate_required' });
    await expect(hd.run(frame, scene(64, 52).plate)).rejects.toMatchObject({ code: 'plate_size_mismatch' });
  });

  it('the logical "bgmv2" model picks HD up to 2560x1440 and 4K above; a preset id forces one', async () => {
    const logical = await openModel('bgmv2');
    expect(logical).toBeInstanceOf(Bgmv2PresetSession);
    const picker = logical as Bgmv2PresetSession;
    expect(picker.variantFor(1920, 1080)).toBe(HD_ID);
    expect(picker.variantFor(2560, 1440)).toBe(HD_ID);
    expect(picker.variantFor(2564, 1440)).toBe(K4_ID);
    expect(picker.variantFor(3840, 2160)).toBe(K4_ID);

    await expectMatches(logical, 64, 48);
    expect(picker.preset).toBe('hd');
    // One frame just over the HD limit runs on the 4K export (opened on first use).
    const { frame, plate } = scene(2564, 1444);
    const result = await logical.run(frame, plate, { foreground: false });
    expect(picker.preset).toBe('4k');
    // Checked on a sample of pixels (the full reference is slow in JS at this size).
    for (let i = 0; i < frame.width * frame.height; i += 997) {
      const px = (f: Frame) => [...f.data.subarray(i * 3, i * 3 + 3)];
      expect(Math.abs(result.alpha.data[i]! - expectedPixel(px(frame), px(plate)).alpha)).toBeLessThanOrEqual(1);
    }
    expect(logical.provider).toBe('cpu');

    // Forcing the 4K export on a small frame: padded to its 320,000-pixel refine budget.
    const forced = await openModel(K4_ID);
    await expectMatches(forced, 64, 48);
  });

  it('lists the presets as unavailable with a reason until their files are there; the logical model needs one', async () => {
    const empty = await ModelRegistry.load(await makeModelsDir());
    const byId = Object.fromEntries(empty.list().map((m) => [m.id, m]));
    for (const id of [HD_ID, K4_ID]) {
      expect(byId[id]).toMatchObject({ kind: 'bgmv2', available: false, needsPlate: true });
      expect(byId[id]!.unavailableReason).toMatch(new RegExp(`models/${id}\\.onnx is missing: run "npm run models:fetch ${id}"`));
    }
    expect(byId.bgmv2).toMatchObject({ available: false });
    expect(byId.bgmv2!.unavailableReason).toMatch(/none of its variants .* is present/);
    await expect(empty.open('bgmv2')).rejects.toMatchObject({ code: 'model_unavailable' });

    // With only the 4K file, the logical model is available and uses it for every size.
    const only4k = await ModelRegistry.load(await makeModelsDir({ [K4_ID]: await fixtureFor(K4_ID) }));
    expect(only4k.list().find((m) => m.id === 'bgmv2')).toMatchObject({ available: true });
    const session = await only4k.open('bgmv2');
    open.push(session);
    await expectMatches(session, 64, 48);
    expect((session as Bgmv2PresetSession).preset).toBe('4k');
  });

  it('a file that breaks the contract, or is cut short, is a clear model_unavailable error and stays untouched', async () => {
    for (const [what, bytes, message] of [
      ['wrong input names', await fixtureFor(HD_ID, { inputNames: ['input', 'background'] }), /expected inputs "src" and "bgr"/],
      ['channels-last inputs', await fixtureFor(HD_ID, { layout: 'nhwc' }), /NCHW, channels first/],
      ['truncated', (await fixtureFor(HD_ID)).subarray(0, 700), /is not an ONNX model/],
      ['not ONNX', new TextEncoder().encode('not a model at all'), /is not an ONNX model/],
    ] as const) {
      const bad = await makeModelsDir({ [HD_ID]: bytes });
      const before = await snapshot(bad);
      const reg = await ModelRegistry.load(bad);
      const err = await reg.open(HD_ID).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, what).toBeInstanceOf(MattingInputError);
      expect((err as MattingInputError).code).toBe('model_unavailable');
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toMatch(/models\/bgmv2-mobilenetv2-hd\.onnx/);
      expect(await snapshot(bad)).toEqual(before);
    }
  });

  it('keeps the fixture honest: unpadded, the export refuses sizes the wrapper must pad', async () => {
    // Run the raw fixture (no wrapper) to show the two size rules the padding exists for.
    const ort = await import('onnxruntime-node');
    const bytes = await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx'));
    const raw = await ort.InferenceSession.create(bytes, { logSeverityLevel: 4 });
    const run = (w: number, h: number) => {
      const t = () => new ort.Tensor('float32', new Float32Array(3 * w * h).fill(0.5), [1, 3, h, w]);
      return raw.run({ src: t(), bgr: t() });
    };
    await expect(run(320, 256)).resolves.toBeDefined();
    await expect(run(322, 256)).rejects.toThrow(); // not a multiple of 4
    await expect(run(64, 48)).rejects.toThrow(/k argument/); // fewer 4x4 patches than the refiner samples
    await raw.release();
  });
});
