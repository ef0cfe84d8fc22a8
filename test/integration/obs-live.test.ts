// The streamer's flow against a real OBS (Debian's 29.0.2 under Xvfb, test/support/obs.ts) and
// a real engine, all on loopback: capture the plate, add the live matte layer, check its alpha
// through OBS's own PNG screenshots, survive an OBS restart, remove it; clear errors for a wrong
// password and for OBS not running. The scene plays a generated clip of a moving subject.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ControllerError } from '../../src/obs/controller-error.js';
import { ObsController } from '../../src/obs/controller.js';
import { matteLayerName } from '../../src/obs/scene-layers.js';
import type { WebSocketLike } from '../../src/obs/engine-client.js';
import { dataUriBytes } from '../../src/obs/frame-loop.js';
import { ppmPixels } from '../../src/obs/ppm.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { decodeRaw } from '../support/images.js';
import { findSubject, makeLiveMedia, type Box, type LiveMedia } from '../support/live-media.js';
import { freeLoopbackPort, obsAvailable, ObsInstance } from '../support/obs.js';
import { rvmModelsDir } from '../support/rvm.js';

const PASSWORD = 'cleanplate-test-pw';
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const SOURCE = 'Camera';
const SCENE = 'Live';
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

let dir: string;
let media: LiveMedia;
let engine: TestEngine;
let obs: ObsInstance;
let controller: ObsController;
const log: string[] = [];

beforeAll(async () => {
  if (!obsAvailable()) throw new Error('these tests need obs-studio, xvfb and gcc (".ci/run" installs them)');
  dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-obs-media-'));
  media = await makeLiveMedia(dir);
  // The repository's models plus a converted rvm (which needs no plate).
  engine = await startTestEngine({ modelsDir: await rvmModelsDir() });
  obs = await ObsInstance.start({
    canvas: { width: 640, height: 360 },
    scene: SCENE,
    password: PASSWORD,
    items: [{ name: SOURCE, kind: 'ffmpeg_source', settings: { is_local_file: true, local_file: media.clip, looping: true }, pos: { x: 40, y: 30 }, scale: { x: 1.5, y: 1.5 } }],
  });
  controller = new ObsController({
    obsUrl: obs.url,
    obsPassword: PASSWORD,
    engine: { url: engine.url, token: engine.token },
    webSocket: wsFactory,
    reconnectMs: { first: 250, max: 2000 },
    log: (l) => log.push(`${new Date().toISOString()} ${l}`),
  });
});

afterAll(async () => {
  await controller?.close();
  await obs?.stop();
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
  await removeTempDirs();
});

interface Rgba {
  data: Buffer;
  width: number;
  height: number;
  channels: number;
}

async function screenshot(sourceName: string): Promise<Rgba> {
  const client = await obs.client();
  try {
    const { imageData } = await client.call('GetSourceScreenshot', { sourceName, imageFormat: 'png', imageWidth: media.width, imageHeight: media.height });
    const { data, info } = await sharp(dataUriBytes(imageData)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
    return { data, width: info.width, height: info.height, channels: info.channels };
  } finally {
    await client.disconnect();
  }
}

function meanAlpha(img: Rgba, x0: number, y0: number, x1: number, y1: number): number {
  let sum = 0;
  let n = 0;
  for (let y = Math.max(0, y0); y < Math.min(img.height, y1); y++) {
    for (let x = Math.max(0, x0); x < Math.min(img.width, x1); x++) {
      sum += img.data[(y * img.width + x) * 4 + 3]!;
      n++;
    }
  }
  return n ? sum / n / 255 : NaN;
}

interface AlphaCheck {
  /** Mean alpha (0-1) in the middle of the subject as the source shows it. */
  overSubject: number;
  /** Mean alpha (0-1) over background far from the subject. */
  overBackground: number;
  box: Box;
}

/**
 * Source and matte layer screenshotted back to back. The layer lags the source a little and the
 * subject moves ~11 px/s, so alpha is measured in the subject's core (25 px in from its sides)
 * and over background at least 45 px away from it.
 */
async function alphaCheck(): Promise<AlphaCheck | undefined> {
  const source = await screenshot(SOURCE);
  const layer = await screenshot(matteLayerName(SOURCE)).catch(() => undefined);
  if (!layer) return undefined;
  const box = findSubject(source.data, source.width, source.height, source.channels);
  const full = media.subject.width * media.subject.height;
  if (box.count < 0.9 * full || box.x1 - box.x0 + 1 < media.subject.width - 2) return undefined; // subject not fully in view
  const overSubject = meanAlpha(layer, box.x0 + 25, box.y0 + 15, box.x1 - 24, box.y1 - 14);
  const far = 45;
  const left = meanAlpha(layer, 0, 0, box.x0 - far, layer.height);
  const right = meanAlpha(layer, box.x1 + far, 0, layer.width, layer.height);
  const overBackground = box.x0 - far > layer.width - box.x1 - far ? left : right;
  return { overSubject, overBackground, box };
}

/** Polls until the layer shows the subject opaque and the background transparent. */
async function expectLiveMatte(timeout = 90_000): Promise<AlphaCheck> {
  let last: AlphaCheck | undefined;
  await expect
    .poll(
      async () => {
        last = await alphaCheck();
        return last !== undefined && last.overSubject > 0.9 && last.overBackground < 0.1;
      },
      { timeout, interval: 300 },
    )
    .toBe(true);
  return last!;
}

describe('OBS live matte (real OBS under Xvfb)', () => {
  it("keeps OBS's websocket on loopback only", () => {
    const listening = readFileSync('/proc/net/tcp', 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[3] === '0A' && f[1]?.endsWith(`:${obs.port.toString(16).toUpperCase().padStart(4, '0')}`));
    expect(listening.length).toBeGreaterThan(0);
    for (const f of listening) expect(f[1]!.startsWith('0100007F:')).toBe(true); // 127.0.0.1
  });

  it('refuses a wrong password and an OBS that is not running with clear errors', async () => {
    const wrong = new ObsController({ obsUrl: obs.url, obsPassword: 'not-the-password', engine: { url: engine.url, token: engine.token }, webSocket: wsFactory });
    const err = await wrong.connect().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControllerError);
    expect(err).toMatchObject({ code: 'obs_auth_failed', message: expect.stringContaining('password') });

    const none = new ObsController({ obsUrl: obs.url, engine: { url: engine.url, token: engine.token }, webSocket: wsFactory });
    await expect(none.connect()).rejects.toMatchObject({ code: 'obs_auth_failed' });

    const port = await freeLoopbackPort();
    const absent = new ObsController({ obsUrl: `ws://127.0.0.1:${port}`, engine: { url: engine.url, token: engine.token }, webSocket: wsFactory });
    await expect(absent.connect()).rejects.toMatchObject({ code: 'obs_unreachable', message: expect.stringContaining('is OBS running') });
  });

  it('connects and lists the video sources of the scene', async () => {
    await controller.connect();
    const sources = await controller.listVideoSources();
    expect(sources).toContainEqual({ name: SOURCE, kind: 'ffmpeg_source', inCurrentScene: true, hasMatte: false });
    await expect(controller.addLiveMatte(SOURCE)).rejects.toMatchObject({ code: 'no_background' });
    await expect(controller.captureBackground('No such source')).rejects.toMatchObject({ code: 'unknown_source' });
    await expect(controller.addLiveMatte(SOURCE, { model: 'nope' })).rejects.toMatchObject({ code: 'unknown_model', message: expect.stringContaining('rvm') });
  });

  it('goes live with rvm before any background was captured (the model needs no plate)', async () => {
    expect(await controller.backgroundOf(SOURCE)).toBeUndefined();
    const added = await controller.addLiveMatte(SOURCE, { model: 'rvm', width: 160 });
    try {
      expect(added.session).toMatchObject({ model: 'rvm', width: 160, height: 90 });
      // Frames flow from OBS through the engine's rvm session into OBS's media layer.
      await expect.poll(async () => (await controller.status()).mattes[0]?.stats?.matted ?? 0, { timeout: 60_000 }).toBeGreaterThan(3);
      await expect.poll(async () => (await controller.status()).mattes[0]?.stats?.streamClients ?? 0, { timeout: 30_000 }).toBe(1);
    } finally {
      await controller.removeLiveMatte(SOURCE);
    }
    expect((await controller.status()).mattes).toEqual([]);
  }, 120_000);

  it('captures the background from the source at its own size', async () => {
    const still = await decodeRaw(readFileSync(media.still));
    // The subject is out of the picture for the first seconds of every loop: capture then
    // (a capture with the subject in it is what a user would redo, and so does the test).
    let plate: Rgba | undefined;
    await expect
      .poll(
        async () => {
          const bg = await controller.captureBackground(SOURCE);
          expect(bg).toMatchObject({ width: media.width, height: media.height });
          const res = await engine.api(`/v1/backgrounds/${bg.id}/image`);
          plate = await decodeRaw(new Uint8Array(await res.arrayBuffer()));
          return findSubject(plate.data, plate.width, plate.height, plate.channels).count;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(0);
    // It is the scene's background, as OBS renders it (video coding shifts colours a little).
    let diff = 0;
    for (let i = 0, n = media.width * media.height; i < n; i++) {
      for (let c = 0; c < 3; c++) diff += Math.abs(plate!.data[i * plate!.channels + c]! - still.data[i * still.channels + c]!);
    }
    expect(diff / (media.width * media.height * 3)).toBeLessThan(6);
  }, 120_000);

  it("reads OBS's ppm screenshots as raw rgb: the same picture as its png", async () => {
    const client = await obs.client();
    try {
      const shot = async (imageFormat: 'ppm' | 'png'): Promise<Uint8Array> =>
        dataUriBytes((await client.call('GetSourceScreenshot', { sourceName: SOURCE, imageFormat, imageWidth: media.width, imageHeight: media.height })).imageData);
      const ppm = ppmPixels(await shot('ppm'));
      const png = await decodeRaw(await shot('png'));
      expect(ppm).toMatchObject({ width: media.width, height: media.height });
      let diff = 0;
      for (let i = 0, n = media.width * media.height; i < n; i++) {
        for (let c = 0; c < 3; c++) diff += Math.abs(ppm.pixels[i * 3 + c]! - png.data[i * png.channels + c]!);
      }
      expect(diff / (media.width * media.height * 3)).toBeLessThan(3); // the subject moves ~1 px between the two
    } finally {
      await client.disconnect();
    }
  });

  it('adds a live matte layer above the source with its transform, alpha ~1 on the subject and ~0 elsewhere', async () => {
    // Debian's OBS has no Browser Source: asking for that layer is a clear error, nothing left open.
    await expect(controller.addLiveMatte(SOURCE, { layer: 'browser' })).rejects.toMatchObject({ code: 'unsupported', message: expect.stringContaining('Browser Source') });
    expect((await controller.status()).mattes).toEqual([]);

    const added = await controller.addLiveMatte(SOURCE);
    expect(added.layer).toBe(`${SOURCE} (CleanPlate matte)`);
    expect(added.session).toMatchObject({ width: media.width, height: media.height, streamFormat: 'nut' });

    const client = await obs.client();
    try {
      const { sceneItems } = await client.call('GetSceneItemList', { sceneName: SCENE });
      const src = sceneItems.find((i) => i.sourceName === SOURCE)!;
      const layer = sceneItems.find((i) => i.sourceName === added.layer)!;
      expect(layer).toBeDefined();
      expect(layer.sceneItemIndex).toBe((src.sceneItemIndex as number) + 1);
      expect(layer.inputKind).toBe('ffmpeg_source');
      const { inputSettings } = await client.call('GetInputSettings', { inputName: added.layer });
      expect(inputSettings).toMatchObject({ is_local_file: false, input: added.session.streamUrl, input_format: 'nut' });
      expect(added.session.streamUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}\.nut$/);
      const t = (await client.call('GetSceneItemTransform', { sceneName: SCENE, sceneItemId: layer.sceneItemId as number })).sceneItemTransform;
      expect(t).toMatchObject({ positionX: 40, positionY: 30, scaleX: 1.5, scaleY: 1.5, rotation: 0 });
    } finally {
      await client.disconnect();
    }

    const check = await expectLiveMatte();
    expect(check.overSubject).toBeGreaterThan(0.9);
    expect(check.overBackground).toBeLessThan(0.1);

    await expect.poll(async () => (await controller.status()).mattes[0]?.stats?.matted ?? 0, { timeout: 30_000 }).toBeGreaterThan(5);
    const status = await controller.status();
    expect(status.obs).toBe('connected');
    const stats = status.mattes[0]!.stats!;
    expect(stats.fps).toBeGreaterThan(0);
    expect(stats.latencyMs.median).toBeGreaterThan(0);
    expect(stats.streamClients).toBe(1); // OBS's media source is playing the stream
    expect(status.mattes[0]!.shotRate).toBeGreaterThan(0);
    // Every hop of the path is measured, the client's from the frames' captureMs.
    expect(Object.keys(stats.hops ?? {})).toEqual(['capture', 'transfer', 'wait', 'decode', 'align', 'model', 'mux']);
    expect(stats.hops!.capture!.median).toBeGreaterThan(0);
  }, 180_000);

  it('reconnects after OBS restarts mid-session and the layer resumes', async () => {
    const before = (await controller.status()).mattes[0]!.session.sessionId;
    const oldPid = obs.pid;
    await obs.restart();
    expect(obs.pid).not.toBe(oldPid);
    const mattedAtRestart = (await controller.status()).mattes[0]!.stats!.matted;
    await expect.poll(() => controller.connected, { timeout: 60_000 }).toBe(true);
    await expect.poll(async () => (await controller.status()).mattes[0]?.running ?? false, { timeout: 30_000 }).toBe(true);
    // Same engine session, same stream: only OBS came and went.
    expect((await controller.status()).mattes[0]!.session.sessionId).toBe(before);
    // New frames flow from the new OBS (the stream alone would only repeat the last matte).
    await expect.poll(async () => (await controller.status()).mattes[0]!.stats!.matted, { timeout: 30_000 }).toBeGreaterThan(mattedAtRestart + 10);
    const check = await expectLiveMatte();
    expect(check.overSubject).toBeGreaterThan(0.9);
    expect(check.overBackground).toBeLessThan(0.1);
    expect(log.some((l) => /reconnecting/.test(l))).toBe(true);
  }, 180_000);

  it('removes the live matte', async () => {
    await controller.removeLiveMatte(SOURCE);
    const client = await obs.client();
    try {
      const { inputs } = await client.call('GetInputList');
      expect(inputs.map((i) => i.inputName)).not.toContain(matteLayerName(SOURCE));
      const { sceneItems } = await client.call('GetSceneItemList', { sceneName: SCENE });
      expect(sceneItems.find((i) => i.sourceName === SOURCE)?.sceneItemEnabled).toBe(true);
    } finally {
      await client.disconnect();
    }
    expect((await controller.status()).mattes).toEqual([]);
    await expect(controller.removeLiveMatte(SOURCE)).rejects.toMatchObject({ code: 'not_live' });
  });

  it('runs from the command line: cleanplate obs sources / capture / run / remove, clear errors', async () => {
    interface Run {
      code: number;
      stdout: string;
      stderr: string;
    }
    const cli = (...args: string[]): Promise<Run> =>
      new Promise((resolve) => {
        execFile(
          process.execPath,
          ['--import', 'tsx', 'src/cli/main.ts', 'obs', ...args],
          // The test engine's engine.json: the CLI uses that engine, as it would a user's daemon.
          { cwd: repo, env: { ...process.env, CLEANPLATE_CONFIG_DIR: engine.configDir, OBS_WEBSOCKET_PASSWORD: PASSWORD }, timeout: 120_000 },
          (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
        );
      });

    const sources = await cli('sources', '--url', obs.url);
    expect(sources.code).toBe(0);
    expect(sources.stdout).toContain(`${SOURCE}\tffmpeg_source`);

    const capture = await cli('capture', '--url', obs.url, '--source', SOURCE);
    expect(capture.code).toBe(0);
    expect(capture.stdout).toMatch(/background [0-9a-f]{24} \(320x180\) stored for "Camera"/);

    const running = cli('run', '--url', obs.url, '--source', SOURCE, '--duration', '8');
    const client = await obs.client();
    try {
      await expect.poll(async () => (await client.call('GetInputList')).inputs.some((i) => i.inputName === matteLayerName(SOURCE)), { timeout: 60_000 }).toBe(true);
      const run = await running;
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/live matte "Camera \(CleanPlate matte\)" streaming on port \d+/);
      expect(run.stdout).not.toMatch(/[0-9a-f]{48}\.nut/); // the stream URL is a credential
      expect(run.stdout).toMatch(/Camera: [\d.]+ fps, latency \d+\/\d+ ms \(median\/p95\), drops \d+%/);
      // Without --keep the layer leaves with the command.
      expect((await client.call('GetInputList')).inputs.map((i) => i.inputName)).not.toContain(matteLayerName(SOURCE));
    } finally {
      await client.disconnect();
    }

    const wrong = await cli('sources', '--url', obs.url, '--password', 'wrong-password');
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the password/);
    const absent = await cli('sources', '--url', `ws://127.0.0.1:${await freeLoopbackPort()}`);
    expect(absent.code).toBe(1);
    expect(absent.stderr).toMatch(/cannot reach OBS .* is OBS running/);
    const usage = await cli('run', '--url', obs.url);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/needs --source NAME/);
  }, 300_000);
});
