// The fused model through the engine over real HTTP, with models/rvm.onnx built, so `fused` is
// the default: a still with a plate (/v1/matte, no model named), a clip job whose plate is a frame
// taken from the clip itself (background {timeSeconds}) and whose frames carry RVM's recurrent
// state, and a live session (WS /v1/live) with a captured plate. Each is checked against the
// session run directly; fused needs the plate (a request without one is refused).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatteResponse } from '../../src/shared/api.js';
import { openFusedSession } from '../../src/engine/matting/fused/session.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import { removeTempDirs, tempDir } from '../support/bgmv2-models.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { liveFirstMatte, runPngJob } from '../support/engine-paths.js';
import { decodeRaw, maxDiff, toPng } from '../support/images.js';
import { losslessClip, personFrame, rvmModelsDir } from '../support/rvm.js';

const W = 192;
const H = 108;
const FRAMES = 4;
/** The empty scene: the figure moved far out of the frame. */
const plate = personFrame(W, H, 10_000);

let t: TestEngine;
let dir: string;
let modelsDir: string;
let direct: MattingSession;

beforeAll(async () => {
  dir = await tempDir('cleanplate-fused-engine-');
  modelsDir = await rvmModelsDir();
  t = await startTestEngine({ modelsDir, warmUp: false });
  direct = await (await ModelRegistry.load(modelsDir)).open('fused');
});
afterAll(async () => {
  await direct?.dispose();
  await t?.stop();
  await removeTempDirs();
});

describe('fused through the engine', () => {
  it('still: POST /v1/matte naming no model mattes with the fused default and the plate', async () => {
    const frame = personFrame(W, H);
    const res = await t.api('/v1/matte', {
      method: 'POST',
      body: form({ image: { bytes: await toPng(frame) }, background: { bytes: await toPng(plate) }, outputs: 'alpha,foreground', align: 'off' }),
    });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as MatteResponse;
    expect(body).toMatchObject({ model: 'fused', width: W, height: H });
    const want = await direct.run(frame, plate);
    const alpha = await decodeRaw(Buffer.from(body.outputs.alpha!, 'base64'));
    expect(maxDiff(alpha.data, want.alpha.data)).toBe(0);
    const fg = await decodeRaw(Buffer.from(body.outputs.foreground!, 'base64'));
    expect(maxDiff(fg.data, want.foreground!.data)).toBe(0);
    // A figure was found (opaque torso, face), the wall is clear.
    expect(want.alpha.data[Math.round(H * 0.6) * W + W / 2]).toBeGreaterThan(240);
    expect(want.alpha.data[Math.round(H * 0.28) * W + W / 2]).toBeGreaterThan(240);
    expect(want.alpha.data[5 * W + 5]).toBeLessThan(10);
  });

  it('a learned prior run on a downscaled frame (priorFrameSide below the frame) still gives the solid figure at full size', async () => {
    const registry = await ModelRegistry.load(modelsDir);
    const small = await openFusedSession({ ...registry.entry('fused')!, settings: { priorLongSide: 96, priorFrameSide: 96 } }, { modelsDir });
    try {
      const frame = personFrame(W, H);
      const { alpha } = await small.run(frame, plate, { foreground: false });
      expect(alpha).toMatchObject({ width: W, height: H });
      expect(alpha.data[Math.round(H * 0.6) * W + W / 2]).toBeGreaterThan(240);
      expect(alpha.data[Math.round(H * 0.28) * W + W / 2]).toBeGreaterThan(240);
      expect(alpha.data[5 * W + 5]).toBeLessThan(10);
    } finally {
      await small.dispose();
    }
  });

  it('still without a plate: 400 plate_required', async () => {
    const res = await t.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: await toPng(personFrame(W, H)) }, model: 'fused' }) });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'plate_required' });
  });

  it('clip job: the plate taken from the clip (timeSeconds 0), recurrent state carried through the frames', async () => {
    // Frame 0 is the empty scene; then the figure walks in.
    const frames = [plate, ...Array.from({ length: FRAMES }, (_, i) => personFrame(W, H, i * 5))];
    const clip = path.join(dir, 'figure.mkv');
    await losslessClip(clip, frames);
    const outputDir = path.join(dir, 'out');
    await mkdir(outputDir);
    const { job, frames: pngs } = await runPngJob(t, { mediaPath: clip, background: { timeSeconds: 0 }, outputDir, align: 'off' }, 90_000);
    expect(job.model).toBe('fused');
    expect(pngs).toHaveLength(frames.length);
    const sequence = new FrameSequence();
    let differsFromAlone = false;
    for (const [i, png] of pngs.entries()) {
      const want = await direct.run(frames[i]!, plate, { sequence });
      const got = await sharp(png).ensureAlpha().raw().toBuffer();
      expect(maxDiff(got, want.foreground!.data), png).toBeLessThanOrEqual(1);
      if (i > 1 && maxDiff(got, (await direct.run(frames[i]!, plate)).foreground!.data) > 1) differsFromAlone = true;
    }
    // The first frame is the plate itself: nothing to matte.
    const first = await sharp(pngs[0]!).ensureAlpha().raw().toBuffer();
    expect(Math.max(...first.filter((_, i) => i % 4 === 3))).toBeLessThan(8);
    // RVM's state went from frame to frame (had each been matted alone, the outputs would differ).
    expect(differsFromAlone).toBe(true);
  });

  it('live session: WS /v1/live with model "fused" and a captured plate serves the matted figure', async () => {
    const frame = personFrame(W, H);
    const { info, rgba } = await liveFirstMatte(t, { model: 'fused', align: 'off' }, frame, plate);
    expect(info).toMatchObject({ model: 'fused' });
    // The session's first frame starts from a fresh state: the still result of the same frame.
    expect(maxDiff(rgba, (await direct.run(frame, plate)).foreground!.data)).toBeLessThanOrEqual(1);
  });
});
