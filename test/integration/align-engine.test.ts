// Plate alignment through the engine over real HTTP (stills and clip jobs with the real plate
// model and ffmpeg), the live open message, and the CLI: a hand-held pair whose plate is off by
// ~10 px and a few percent of exposure mattes cleanly with align on and lights up without it.
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { Homography } from '../../src/engine/align/homography.js';
import { validateOpen } from '../../src/engine/services/live.js';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { uploadBackground } from '../../src/shared/engine-client.js';
import { makeAlignPair, type AlignPair } from '../../src/eval/align-pairs.js';
import type { JobRecord, MatteResponse } from '../../src/shared/api.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { decodeRaw, toPng } from '../support/images.js';

const run = promisify(execFile);
const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const W = 320;
const H = 180;

/** A hand-held camera: turned by `deg` about the centre and shifted. */
function handHeld(deg: number, tx: number, ty: number): Homography {
  const a = (deg * Math.PI) / 180;
  const c = Math.cos(a);
  const s = Math.sin(a);
  const cx = (W - 1) / 2;
  const cy = (H - 1) / 2;
  return [c, -s, cx - c * cx + s * cy + tx, s, c, cy - s * cx - c * cy + ty, 0, 0, 1];
}

/** Share of true background pixels (ground-truth alpha 0) that the matte calls subject. */
function falseSubject(alpha: Uint8Array, pair: AlignPair): number {
  let wrong = 0;
  let n = 0;
  for (let i = 0; i < pair.alpha.length; i++) {
    if (pair.alpha[i]! > 0) continue;
    n++;
    if (alpha[i]! > 127) wrong++;
  }
  return wrong / n;
}

let t: TestEngine;
let dir: string;
let pair: AlignPair;
let framePng: Buffer;
let platePng: Buffer;

beforeAll(async () => {
  t = await startTestEngine();
  dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-align-'));
  pair = makeAlignPair({ width: W, height: H, warp: handHeld(1, 9.5, -6), gain: [1.05, 1.04, 1.02], noise: 1.5 });
  framePng = await toPng(pair.frame);
  platePng = await toPng(pair.plate);
});
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function matte(align?: string): Promise<Response> {
  return t.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: framePng }, background: { bytes: platePng }, ...(align ? { align } : {}) }) });
}

async function alphaOf(body: MatteResponse): Promise<Uint8Array> {
  const img = await decodeRaw(Buffer.from(body.outputs.alpha!, 'base64'));
  expect(img.channels).toBe(1);
  return new Uint8Array(img.data);
}

describe('POST /v1/matte align', () => {
  it('auto (the default) aligns a hand-held pair; off leaves the background lit up', async () => {
    const on = await matte();
    expect(on.status).toBe(200);
    const onBody = (await on.json()) as MatteResponse;
    expect(onBody.align).toMatchObject({ mode: 'auto', frames: 1, framesEstimated: 1, framesAligned: 1, framesWarped: 1, warnings: [] });
    expect(onBody.align!.meanShiftPx).toBeGreaterThan(8);
    expect(onBody.align!.meanShiftPx).toBeLessThan(16);
    expect(onBody.align!.gain![0]).toBeCloseTo(1.05, 1);

    const off = await matte('off');
    expect(off.status).toBe(200);
    const offBody = (await off.json()) as MatteResponse;
    expect(offBody.align).toMatchObject({ mode: 'off', framesAligned: 0, framesEstimated: 0 });

    const wrongOn = falseSubject(await alphaOf(onBody), pair);
    const wrongOff = falseSubject(await alphaOf(offBody), pair);
    // Measured: about 6% of the background is called subject without alignment, none with it.
    expect(wrongOff).toBeGreaterThan(0.03);
    expect(wrongOn).toBeLessThan(0.005);
  });

  it('refuses an unknown align mode with a 400 naming the choices', async () => {
    const res = await matte('sideways');
    expect(res.status).toBe(400);
    const err = await errorOf(res);
    expect(err.code).toBe('bad_field');
    expect(err.message).toMatch(/align.*auto, off, on/);
  });
});

/** Encodes frames losslessly (FFV1 in Matroska) at 25 fps. */
async function writeClip(name: string, frames: Uint8Array[]): Promise<string> {
  const raw = path.join(dir, `${name}.rgb`);
  await writeFile(raw, Buffer.concat(frames));
  const file = path.join(dir, `${name}.mkv`);
  await run('ffmpeg', ['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-framerate', '25', '-i', raw, '-c:v', 'ffv1', '-pix_fmt', 'bgr0', '-y', file]);
  return file;
}

async function runJob(mediaPath: string, platePath: string, align?: string): Promise<JobRecord> {
  const res = await t.api('/v1/jobs', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ mediaPath, background: { imagePath: platePath }, outputs: ['png'], outputDir: path.join(dir, 'out'), ...(align ? { align } : {}) }),
  });
  if (res.status !== 201) throw new Error(`job refused: ${res.status} ${await res.text()}`);
  const { id } = (await res.json()) as JobRecord;
  for (let i = 0; i < 600; i++) {
    const job = (await (await t.api(`/v1/jobs/${id}`)).json()) as JobRecord;
    if (job.state !== 'queued' && job.state !== 'running') return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('job did not finish in 60 s');
}

describe('clip jobs align', () => {
  it('a hand-held clip is aligned per frame and the job reports it; a tripod clip estimates nothing', async () => {
    const platePath = path.join(dir, 'plate.png');
    await writeFile(platePath, platePng);
    // The camera drifts 1.5 px a frame: every frame needs its own warp.
    const moving = [0, 1, 2, 3, 4].map((i) => makeAlignPair({ width: W, height: H, warp: handHeld(0.5, 8 + 1.5 * i, -5 + i), noise: 1.5 }).frame.data);
    const handheldJob = await runJob(await writeClip('handheld', moving), platePath);
    expect(handheldJob.state).toBe('done');
    expect(handheldJob.align).toMatchObject({ mode: 'auto', frames: 5, framesWarped: 5, warnings: [] });
    expect(handheldJob.align!.framesEstimated).toBeGreaterThanOrEqual(4);
    expect(handheldJob.align!.meanShiftPx).toBeGreaterThan(8);

    const still = makeAlignPair({ width: W, height: H, noise: 1.5 }).frame.data;
    const tripodJob = await runJob(await writeClip('tripod', [still, still, still, still]), platePath);
    expect(tripodJob.state).toBe('done');
    expect(tripodJob.align).toMatchObject({ mode: 'auto', frames: 4, framesEstimated: 0, framesAligned: 0 });

    const offJob = await runJob(path.join(dir, 'handheld.mkv'), platePath, 'off');
    expect(offJob.align).toMatchObject({ mode: 'off', frames: 5, framesAligned: 0 });
  });

  it('refuses an unknown align mode at POST time', async () => {
    const res = await t.api('/v1/jobs', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ mediaPath: path.join(dir, 'handheld.mkv'), align: 'always' }),
    });
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({ code: 'bad_field' });
  });
});

describe('live sessions align', () => {
  it('a live session aligns the stored plate to a hand-held camera and reports it in stats', async () => {
    const backgroundId = (await uploadBackground({ url: t.url, token: t.token }, platePng)).id;
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
    try {
      for (const align of [undefined, 'off'] as const) {
        const info = await live.openSession({ backgroundId, width: W, height: H, ...(align ? { align } : {}) });
        live.sendFrame(info.sessionId, 1, Date.now(), 'png', W, H, framePng);
        await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBe(1);
        const stats = await live.stats(info.sessionId);
        if (align === 'off') expect(stats.align).toMatchObject({ mode: 'off', frames: 1, framesAligned: 0 });
        else {
          expect(stats.align).toMatchObject({ mode: 'auto', frames: 1, framesEstimated: 1, framesWarped: 1, warnings: [] });
          expect(stats.align!.meanShiftPx).toBeGreaterThan(8);
        }
        await live.closeSession(info.sessionId);
      }
    } finally {
      live.disconnect();
    }
  });

  it('the open message takes auto, on and off and refuses anything else', () => {
    const base = { type: 'open', backgroundId: 'b', width: 320, height: 180 };
    expect(validateOpen({ ...base, align: 'on' })).toMatchObject({ align: 'on' });
    expect(validateOpen(base)).not.toHaveProperty('align');
    expect(() => validateOpen({ ...base, align: 'yes' })).toThrow(/"align" must be one of auto, off, on/);
  });
});

describe('cleanplate matte --align', () => {
  const cli = (...args: string[]) =>
    run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, env: { ...process.env, CLEANPLATE_THREADS: '1' }, timeout: 60_000 }).then(
      (r) => ({ code: 0, ...r }),
      (err: { code?: number; stdout: string; stderr: string }) => ({ code: err.code ?? -1, stdout: err.stdout, stderr: err.stderr }),
    );

  it('reports the alignment of a still and refuses an unknown mode', async () => {
    const image = path.join(dir, 'shot.png');
    const plate = path.join(dir, 'shot-plate.png');
    await writeFile(image, framePng);
    await writeFile(plate, platePng);
    const ok = await cli('matte', image, '--plate', plate, '--align', 'on', '--output-dir', path.join(dir, 'cli-out'));
    expect(ok.code).toBe(0);
    expect(ok.stderr).toMatch(/shot\.png: plate aligned on 1 of 1 frame, mean shift \d+(\.\d+)? px/);
    const bad = await cli('matte', image, '--plate', plate, '--align', 'sometimes');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/--align must be one of auto, off, on; got "sometimes"/);
  });
});
