// RVM through the engine over real HTTP: a still without a plate (/v1/matte), a clip job whose
// frames carry the recurrent state from one to the next (/v1/jobs, lossless clip -> PNG), and a
// live session (WS /v1/live -> NUT); a models folder without rvm.onnx answers 409 with the command
// to run; `npm run models:rvm`'s command line builds and registers the model.
import { mkdir, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatteResponse, ModelList } from '../../src/shared/api.js';
import { runRvmCommand } from '../../src/cli/models-rvm.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import { makeModelsDir, removeTempDirs, tempDir } from '../support/bgmv2-models.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { liveFirstMatte, runPngJob } from '../support/engine-paths.js';
import { decodeRaw, maxDiff, toPng } from '../support/images.js';
import { losslessClip, personFrame, RVM_CACHE_DIR, rvmModelsDir, rvmOnnx } from '../support/rvm.js';

const W = 192;
const H = 108;
const FRAMES = 5;

let t: TestEngine;
let dir: string;
let direct: MattingSession;

beforeAll(async () => {
  dir = await tempDir('cleanplate-rvm-engine-');
  const modelsDir = await rvmModelsDir();
  t = await startTestEngine({ modelsDir, warmUp: false });
  direct = await (await ModelRegistry.load(modelsDir)).open('rvm');
});
afterAll(async () => {
  await direct?.dispose();
  await t?.stop();
  await removeTempDirs();
});

describe('rvm through the engine', () => {
  it('still: POST /v1/matte with model "rvm" and no background gives the model\'s alpha and foreground', async () => {
    const frame = personFrame(W, H);
    const res = await t.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: await toPng(frame) }, model: 'rvm', outputs: 'alpha,foreground' }) });
    expect(res.status, await res.clone().text()).toBe(200);
    const body = (await res.json()) as MatteResponse;
    expect(body).toMatchObject({ model: 'rvm', provider: 'cpu', width: W, height: H });
    const want = await direct.run(frame);
    const alpha = await decodeRaw(Buffer.from(body.outputs.alpha!, 'base64'));
    expect(alpha.channels).toBe(1);
    expect(maxDiff(alpha.data, want.alpha.data)).toBe(0);
    const fg = await decodeRaw(Buffer.from(body.outputs.foreground!, 'base64'));
    expect(maxDiff(fg.data, want.foreground!.data)).toBe(0);
    // A figure was found: opaque torso, clear wall.
    expect(want.alpha.data[Math.round(H * 0.6) * W + W / 2]).toBeGreaterThan(240);
    expect(want.alpha.data[5 * W + 5]).toBeLessThan(10);
  });

  it('clip job: POST /v1/jobs with model "rvm" and no plate carries the state through the clip\'s frames', async () => {
    const frames = Array.from({ length: FRAMES }, (_, i) => personFrame(W, H, i * 5));
    const clip = path.join(dir, 'figure.mkv');
    await losslessClip(clip, frames);
    const outputDir = path.join(dir, 'out');
    await mkdir(outputDir);
    const { frames: pngs } = await runPngJob(t, { mediaPath: clip, model: 'rvm', outputDir });
    expect(pngs).toHaveLength(FRAMES);
    // The same frames through the session in one sequence: what the job must have produced.
    const sequence = new FrameSequence();
    let differsFromAlone = false;
    for (const [i, png] of pngs.entries()) {
      const want = await direct.run(frames[i]!, undefined, { sequence });
      const got = await sharp(png).ensureAlpha().raw().toBuffer();
      expect(maxDiff(got, want.foreground!.data), png).toBeLessThanOrEqual(1);
      if (i > 0 && maxDiff(got, (await direct.run(frames[i]!)).foreground!.data) > 1) differsFromAlone = true;
    }
    // Had the job matted each frame on its own, the outputs would differ from the sequence's.
    expect(differsFromAlone).toBe(true);
  });

  it('live session: WS /v1/live with model "rvm" and no plate serves the matted figure as RGBA', async () => {
    const frame = personFrame(W, H);
    // rvm needs no plate (needsPlate false in /v1/models): the open carries no backgroundId.
    const models = ((await (await t.api('/v1/models')).json()) as ModelList).models;
    expect(models.find((m) => m.id === 'rvm')).toMatchObject({ available: true, needsPlate: false });
    const { info, rgba } = await liveFirstMatte(t, { model: 'rvm' }, frame);
    expect(info).toMatchObject({ model: 'rvm', provider: 'cpu' });
    // The session's first frame starts from a fresh state: the still result of the same frame.
    expect(maxDiff(rgba, (await direct.run(frame)).foreground!.data)).toBeLessThanOrEqual(1);
  });

  it('without models/rvm.onnx: /v1/models says to run "npm run models:rvm" and a matte request is a 409 saying so', async () => {
    const bare = await startTestEngine({ modelsDir: await rvmModelsDir({}, false), warmUp: false });
    try {
      const models = ((await (await bare.api('/v1/models')).json()) as ModelList).models;
      expect(models.find((m) => m.id === 'rvm')).toMatchObject({ available: false, needsPlate: false, unavailableReason: expect.stringMatching(/npm run models:rvm/) });
      const res = await bare.api('/v1/matte', { method: 'POST', body: form({ image: { bytes: await toPng(personFrame(W, H)) }, model: 'rvm' }) });
      expect(res.status).toBe(409);
      expect(await errorOf(res)).toMatchObject({ code: 'model_unavailable', message: expect.stringMatching(/run "npm run models:rvm"/) });
    } finally {
      await bare.stop();
    }
  });
});

describe('npm run models:rvm (command line)', () => {
  it('builds models/rvm.onnx, adds the manifest entry a manifest lacks, and says "already up to date" on a second run', async () => {
    const modelsDir = await makeModelsDir({}, (models) => models.filter((m) => m.id !== 'rvm'));
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await runRvmCommand(['--models-dir', modelsDir, '--cache-dir', RVM_CACHE_DIR], io)).toBe(0);
    expect(lines.join('\n')).toMatch(/rvm\.onnx: written, 15\.\d MB.*added "rvm" to models\/manifest\.json/);
    expect(Buffer.compare(await readFile(path.join(modelsDir, 'rvm.onnx')), Buffer.from(await rvmOnnx()))).toBe(0);
    const manifest = JSON.parse(await readFile(path.join(modelsDir, 'manifest.json'), 'utf8')) as ModelList;
    expect(manifest.models.find((m) => m.id === 'rvm')).toMatchObject({ kind: 'rvm', file: 'rvm.onnx', licence: expect.stringMatching(/GPL-3\.0/) });
    const before = (await stat(path.join(modelsDir, 'rvm.onnx'))).mtimeMs;
    lines.length = 0;
    expect(await runRvmCommand(['--models-dir', modelsDir, '--cache-dir', RVM_CACHE_DIR], io)).toBe(0);
    expect(lines.join('\n')).toMatch(/already up to date/);
    expect((await stat(path.join(modelsDir, 'rvm.onnx'))).mtimeMs).toBe(before);
    expect((await readdir(modelsDir)).filter((n) => n.startsWith('.'))).toEqual([]); // no temp files left
  });

  it('refuses an unknown option and a models folder without a manifest, with a non-zero exit', async () => {
    const lines: string[] = [];
    const io = { out: (l: string) => lines.push(l), err: (l: string) => lines.push(l) };
    expect(await runRvmCommand(['--bogus'], io)).toBe(2);
    expect(lines.join('\n')).toMatch(/usage: npm run models:rvm/);
    lines.length = 0;
    const empty = await tempDir('cleanplate-rvm-nomanifest-');
    expect(await runRvmCommand(['--models-dir', empty, '--cache-dir', RVM_CACHE_DIR], io)).toBe(1);
    expect(lines.join('\n')).toMatch(/models:rvm failed: .*manifest\.json/);
    expect(await readdir(empty)).toEqual([]); // nothing written where there is no manifest
  });
});
