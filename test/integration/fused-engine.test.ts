// The fused model through the engine over real HTTP, with models/rvm.onnx built, so `fused` is
// the default: a still with a plate (/v1/matte, no model named), a clip job whose plate is a frame
// taken from the clip itself (background {timeSeconds}) and whose frames carry RVM's recurrent
// state, and a live session (WS /v1/live) with a captured plate. Each is checked against the
// session run directly; fused needs the plate (a request without one is refused).
import { execFile } from 'node:child_process';
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { JobRecord, MatteResponse } from '../../src/shared/api.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { openFusedSession } from '../../src/engine/matting/fused/session.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { uploadBackground } from '../../src/shared/engine-client.js';
import { removeTempDirs, tempDir } from '../support/bgmv2-models.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { decodeRaw, toPng } from '../support/images.js';
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

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

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
    const created = await t.api('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mediaPath: clip, background: { timeSeconds: 0 }, outputs: ['png'], outputDir, align: 'off' }),
    });
    expect(created.status, await created.clone().text()).toBe(201);
    const { id } = (await created.json()) as JobRecord;
    let job: JobRecord | undefined;
    await expect
      .poll(
        async () => {
          job = (await (await t.api(`/v1/jobs/${id}`)).json()) as JobRecord;
          return job.state;
        },
        { timeout: 90_000, interval: 200 },
      )
      .toBe('done');
    expect(job!.model).toBe('fused');
    const folder = job!.outputs.find((o) => o.kind === 'png')!.path;
    const names = (await readdir(folder)).filter((n) => n.endsWith('.png')).sort();
    expect(names).toHaveLength(frames.length);
    const sequence = new FrameSequence();
    let differsFromAlone = false;
    for (const [i, name] of names.entries()) {
      const want = await direct.run(frames[i]!, plate, { sequence });
      const got = await sharp(path.join(folder, name)).ensureAlpha().raw().toBuffer();
      expect(maxDiff(got, want.foreground!.data), name).toBeLessThanOrEqual(1);
      if (i > 1 && maxDiff(got, (await direct.run(frames[i]!, plate)).foreground!.data) > 1) differsFromAlone = true;
    }
    // The first frame is the plate itself: nothing to matte.
    const first = await sharp(path.join(folder, names[0]!)).ensureAlpha().raw().toBuffer();
    expect(Math.max(...first.filter((_, i) => i % 4 === 3))).toBeLessThan(8);
    // RVM's state went from frame to frame (had each been matted alone, the outputs would differ).
    expect(differsFromAlone).toBe(true);
  });

  it('live session: WS /v1/live with model "fused" and a captured plate serves the matted figure', async () => {
    const frame = personFrame(W, H);
    const backgroundId = (await uploadBackground({ url: t.url, token: t.token }, await toPng(plate))).id;
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
    try {
      const info = await live.openSession({ model: 'fused', backgroundId, width: W, height: H, fps: 30, align: 'off' });
      expect(info).toMatchObject({ model: 'fused' });
      const rgba = new Uint8Array(W * H * 4);
      for (let i = 0; i < W * H; i++) rgba.set([...frame.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
      live.sendFrame(info.sessionId, 1, Date.now(), 'rgba', W, H, rgba);
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBe(1);
      const { ffmpeg } = await mediaTools();
      const { stdout } = await promisify(execFile)(
        ffmpeg.path,
        ['-hide_banner', '-loglevel', 'error', '-f', 'nut', '-i', info.streamUrl, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
        { encoding: 'buffer', maxBuffer: 16 << 20, timeout: 30_000 },
      );
      // The session's first frame starts from a fresh state: the still result of the same frame.
      expect(maxDiff(stdout, (await direct.run(frame, plate)).foreground!.data)).toBeLessThanOrEqual(1);
      await live.closeSession(info.sessionId);
    } finally {
      live.disconnect();
    }
  });
});
