// The bgmv2 kind through every path a user takes, on a real engine over HTTP/WS on 127.0.0.1,
// real onnxruntime and real ffmpeg: a still matte (POST /v1/matte), a clip job (POST /v1/jobs,
// lossless FFV1 clip -> PNG sequence) and a live session (WS /v1/live -> NUT stream read by
// ffmpeg). The models folder holds the contract fixture under the official file names, so the
// expected output is known to within 1/255 at every pixel.
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Health, MatteResponse, ModelList } from '../../src/shared/api.js';
import type { Frame } from '../../src/engine/frame.js';
import { expectedMatte } from '../support/bgmv2-fixture.js';
import { fixtureFor, HD_ID, K4_ID, makeModelsDir, removeTempDirs, tempDir } from '../support/bgmv2-models.js';
import { makeClip, makeFrame } from '../support/clips.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { liveFirstMatte, runPngJob } from '../support/engine-paths.js';
import { decodeRaw, maxDiff, texturedPlate, toPng, withSquare } from '../support/images.js';

const W = 192;
const H = 108;
const plate = texturedPlate(W, H, 11);
const frame = withSquare(plate, { x: 60, y: 30, size: 44, color: [30, 200, 220] });

let t: TestEngine;
let dir: string;

beforeAll(async () => {
  dir = await tempDir('cleanplate-bgmv2-paths-');
  const modelsDir = await makeModelsDir(
    { [HD_ID]: await fixtureFor(HD_ID), [K4_ID]: await fixtureFor(K4_ID), 'bgmv2-broken': await fixtureFor(HD_ID, { inputNames: ['input', 'background'] }) },
    (models) => {
      const hd = models.find((m) => m.id === HD_ID)!;
      return [...models, { ...hd, id: 'bgmv2-broken', file: 'bgmv2-broken.onnx', url: undefined, description: 'a file that does not keep the contract' } as typeof hd];
    },
  );
  t = await startTestEngine({ modelsDir, warmUp: false });
});
afterAll(async () => {
  await t?.stop();
  await removeTempDirs();
});

/** A PNG from the engine as raw pixels of exactly this many channels. */
async function pixels(b64: string | undefined, channels: 1 | 4): Promise<Uint8Array> {
  if (!b64) throw new Error('missing output');
  const raw = await decodeRaw(Buffer.from(b64, 'base64'));
  expect([raw.width, raw.height, raw.channels]).toEqual([W, H, channels]);
  return raw.data;
}

describe('bgmv2 through the engine', () => {
  it("still matte: POST /v1/matte gives the export's alpha and foreground to within 1/255, by logical id or a forced preset", async () => {
    const want = expectedMatte(frame, plate);
    for (const model of ['bgmv2', K4_ID]) {
      const res = await t.api('/v1/matte', {
        method: 'POST',
        body: form({ image: { bytes: await toPng(frame) }, background: { bytes: await toPng(plate) }, model, outputs: 'alpha,foreground' }),
      });
      expect(res.status, await res.clone().text()).toBe(200);
      const body = (await res.json()) as MatteResponse;
      expect(body).toMatchObject({ model, provider: 'cpu', width: W, height: H });
      expect(maxDiff(await pixels(body.outputs.alpha, 1), want.alpha)).toBeLessThanOrEqual(1);
      expect(maxDiff(await pixels(body.outputs.foreground, 4), want.foreground)).toBeLessThanOrEqual(1);
    }
  });

  it('/v1/health lists the bgmv2 models with their preset and the execution provider in use; /v1/models their state', async () => {
    const health = (await (await t.api('/v1/health')).json()) as Health;
    const byId = Object.fromEntries(health.models.map((m) => [m.id, m]));
    expect(byId.bgmv2).toEqual({ id: 'bgmv2', kind: 'bgmv2', available: true, provider: 'cpu', preset: 'hd' });
    expect(byId[K4_ID]).toEqual({ id: K4_ID, kind: 'bgmv2', available: true, provider: 'cpu', preset: '4k' });
    expect(byId[HD_ID]).toEqual({ id: HD_ID, kind: 'bgmv2', available: true, provider: null, preset: 'hd' });
    expect(byId.plate).not.toHaveProperty('preset');
    expect(health.providers.inUse).toContain('cpu');

    // An engine whose models folder lacks the files: listed, unavailable, with what to do.
    const bare = await startTestEngine({ modelsDir: await makeModelsDir(), warmUp: false });
    try {
      const models = ((await (await bare.api('/v1/models')).json()) as ModelList).models;
      for (const id of ['bgmv2', HD_ID, K4_ID]) {
        const m = models.find((x) => x.id === id);
        expect(m, id).toMatchObject({ kind: 'bgmv2', available: false, provider: null });
        expect(m!.unavailableReason).toMatch(/npm run models:fetch/);
      }
      const res = await bare.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: await toPng(frame) }, background: { bytes: await toPng(plate) }, model: 'bgmv2' }) });
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({ code: 'model_unavailable' });
    } finally {
      await bare.stop();
    }
  });

  it('a model file that breaks the contract is a 409 naming the problem, and the engine keeps serving', async () => {
    const res = await t.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: await toPng(frame) }, background: { bytes: await toPng(plate) }, model: 'bgmv2-broken' }) });
    expect(res.status).toBe(409);
    const err = await errorOf(res);
    expect(err.code).toBe('model_unavailable');
    expect(err.message).toMatch(/models\/bgmv2-broken\.onnx: expected inputs "src" and "bgr" .*found "input", "background"/);
    expect((await t.api('/v1/health')).status).toBe(200);
  });

  it('clip job: POST /v1/jobs with model "bgmv2" renders every frame as the export would, to within 1/255', async () => {
    const clip = await makeClip(dir, 'lossless', { width: W, height: H, frames: 6, codec: 'ffv1', container: 'mkv' });
    const outputDir = path.join(dir, 'out');
    const { job, frames: pngs } = await runPngJob(t, { mediaPath: clip.path, background: { imagePath: clip.platePath }, model: 'bgmv2', outputDir });
    expect(job.model).toBe('bgmv2');
    expect(pngs).toHaveLength(6);
    for (const [i, png] of pngs.entries()) {
      const src: Frame = { data: makeFrame(clip.plate, i), width: W, height: H, channels: 3 };
      const got = await sharp(png).ensureAlpha().raw().toBuffer();
      expect(maxDiff(got, expectedMatte(src, clip.plate).foreground), png).toBeLessThanOrEqual(1);
    }
  });

  it('live session: WS /v1/live with model "bgmv2" serves the export\'s RGBA to within 1/255', async () => {
    const { info, rgba } = await liveFirstMatte(t, { model: 'bgmv2' }, frame, plate);
    expect(info).toMatchObject({ model: 'bgmv2', provider: 'cpu' });
    expect(maxDiff(rgba, expectedMatte(frame, plate).foreground)).toBeLessThanOrEqual(1);
  });
});
