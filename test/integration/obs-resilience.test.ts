// The OBS controller when things go wrong, against a real OBS under Xvfb (test/support/obs.ts)
// and real engines: two quick adds, hide-original timing, an engine restart under a live matte
// (controller and `cleanplate obs run`), and a killed controller's layout noticed and repaired.
// The matte model is rvm (no plate), so engines with separate plate stores can take over. The
// camera plays a person-like figure (test/support/rvm.ts) over a new backdrop: the program output
// with the original hidden is the README's OBS picture (test-artifacts/obs-program-person.png).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { createEngine, type Engine } from '../../src/engine/server.js';
import type { ControllerOptions } from '../../src/obs/controller-types.js';
import { ObsController } from '../../src/obs/controller.js';
import { matteLayerName } from '../../src/obs/scene-layers.js';
import type { WebSocketLike } from '../../src/obs/engine-client.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { dataUriBytes } from '../../src/obs/frame-loop.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import type { Frame } from '../../src/engine/frame.js';
import { decodeRaw, toPng } from '../support/images.js';
import { obsAvailable, ObsInstance } from '../support/obs.js';
import { personFrame, rvmModelsDir } from '../support/rvm.js';

const PASSWORD = 'resilience-test-pw';
const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const SOURCE = 'Camera';
const CARD = 'Card';
const SCENE = 'Live';
const HOME = { x: 80, y: 45 };
const W = 320;
const H = 180;

/** A looping clip of the figure swaying left and right in a room (lossless enough: x264 crf 12). */
async function personClip(file: string): Promise<void> {
  const { ffmpeg } = await mediaTools();
  const child = spawn(
    ffmpeg.path,
    ['-hide_banner', '-v', 'error', '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-s', `${W}x${H}`, '-framerate', '25', '-i', 'pipe:0', '-c:v', 'libx264', '-crf', '12', '-pix_fmt', 'yuv444p', '-y', file],
    { stdio: ['pipe', 'ignore', 'pipe'] },
  );
  const done = new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}`)))));
  for (let i = 0; i < 100; i++) child.stdin!.write(personFrame(W, H, Math.round(40 * Math.sin((i / 100) * 2 * Math.PI))).data);
  child.stdin!.end();
  await done;
}

/** The new backdrop: an evening sky over hills and a lake (nothing like the camera's room). */
function backdrop(width: number, height: number): Frame {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const t = y / height;
      const hill = height * (0.58 + 0.06 * Math.sin(x / 53) + 0.03 * Math.sin(x / 17 + 1));
      const sun = Math.hypot(x - width * 0.75, y - height * 0.3) < height * 0.08;
      let rgb = [250 - 120 * t, 150 - 60 * t, 90 + 100 * t];
      if (sun) rgb = [255, 235, 170];
      if (y > hill) rgb = [40 + 20 * Math.sin(x / 9), 80 + 15 * Math.sin(y / 7), 45];
      if (y > height * 0.8) rgb = [50, 90 + 30 * Math.sin(x / 11 + y / 5), 150];
      data.set(
        rgb.map((v) => Math.max(0, Math.min(255, Math.round(v)))),
        (y * width + x) * 3,
      );
    }
  }
  return { data, width, height, channels: 3 };
}

let root: string;
let modelsDir: string;
let obs: ObsInstance;
let wsOpened = 0;
const wsFactory = (url: string, protocols: string[]): WebSocketLike => {
  wsOpened++;
  return new WebSocket(url, protocols) as unknown as WebSocketLike;
};

/** An engine on a fixed config/data folder: closing and starting again is an engine restart. */
class RestartableEngine {
  engine: Engine | undefined;
  readonly log: string[] = [];
  constructor(
    readonly configDir: string,
    readonly dataDir: string,
  ) {}
  async start(): Promise<void> {
    this.engine = await createEngine({ port: 0, configDir: this.configDir, dataDir: this.dataDir, modelsDir, warmUp: false, log: (l) => this.log.push(l) });
  }
  async stop(): Promise<void> {
    await this.engine?.close();
    this.engine = undefined;
  }
  get endpoint(): { url: string; token: string } {
    return { url: this.engine!.url, token: this.engine!.token };
  }
}
let eng: RestartableEngine;

function controllerFor(extra: Partial<ControllerOptions> = {}, log: string[] = []): ObsController {
  return new ObsController({
    obsUrl: obs.url,
    obsPassword: PASSWORD,
    engine: eng.endpoint,
    resolveEngine: async () => (eng.engine ? eng.endpoint : undefined),
    webSocket: wsFactory,
    reconnectMs: { first: 250, max: 1000 },
    log: (l) => log.push(l),
    ...extra,
  });
}

async function sourcePosition(name = SOURCE): Promise<{ x: number; y: number }> {
  const c = await obs.client();
  try {
    const item = (await c.call('GetSceneItemList', { sceneName: SCENE })).sceneItems.find((i) => i.sourceName === name)!;
    const t = (await c.call('GetSceneItemTransform', { sceneName: SCENE, sceneItemId: item.sceneItemId as number })).sceneItemTransform;
    return { x: t.positionX as number, y: t.positionY as number };
  } finally {
    await c.disconnect();
  }
}

async function layerInput(name = SOURCE): Promise<string | undefined> {
  const c = await obs.client();
  try {
    if (!(await c.call('GetInputList')).inputs.some((i) => i.inputName === matteLayerName(name))) return undefined;
    return String((await c.call('GetInputSettings', { inputName: matteLayerName(name) })).inputSettings.input);
  } finally {
    await c.disconnect();
  }
}

const hidden = async (): Promise<boolean> => (await sourcePosition()).x !== HOME.x;

interface Cli {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number>;
}

function cli(...args: string[]): Cli {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'obs', ...args, '--url', obs.url], {
    cwd: repo,
    env: { ...process.env, CLEANPLATE_CONFIG_DIR: eng.configDir, OBS_WEBSOCKET_PASSWORD: PASSWORD },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Cli = {
    child,
    stdout: '',
    stderr: '',
    exited: new Promise((resolve) => child.on('close', (code) => resolve(code ?? -1))),
  };
  child.stdout!.on('data', (d: Buffer) => (run.stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (run.stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 150_000);
  void run.exited.then(() => clearTimeout(timer));
  return run;
}

async function cliDone(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const run = cli(...args);
  const code = await run.exited;
  return { code, stdout: run.stdout, stderr: run.stderr };
}

beforeAll(async () => {
  if (!obsAvailable()) throw new Error('these tests need obs-studio, xvfb and gcc (".ci/run" installs them)');
  root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-obs-resilience-'));
  const clip = path.join(root, 'person.mp4');
  await personClip(clip);
  const backdropFile = path.join(root, 'backdrop.png');
  await writeFile(backdropFile, await toPng(backdrop(640, 360)));
  modelsDir = await rvmModelsDir();
  eng = new RestartableEngine(path.join(root, 'config'), path.join(root, 'data'));
  await eng.start();
  obs = await ObsInstance.start({
    canvas: { width: 640, height: 360 },
    scene: SCENE,
    password: PASSWORD,
    items: [
      { name: 'Backdrop', kind: 'image_source', settings: { file: backdropFile } },
      { name: CARD, kind: 'color_source_v3', settings: { color: 0xff808080, width: 160, height: 90 }, pos: { x: 0, y: 0 }, visible: false },
      { name: SOURCE, kind: 'ffmpeg_source', settings: { is_local_file: true, local_file: clip, looping: true }, pos: HOME, scale: { x: 1.5, y: 1.5 } },
    ],
  });
});

afterAll(async () => {
  await obs?.stop();
  await eng?.stop();
  if (root) await rm(root, { recursive: true, force: true });
  await removeTempDirs();
});

describe('OBS controller resilience (real OBS under Xvfb, real engines)', () => {
  it('two quick adds for one source open one session; adds for two sources share one engine connection; remove stops the frames', async () => {
    const log: string[] = [];
    const c = controllerFor({}, log);
    await c.connect();
    try {
      const opened = (): number => eng.log.filter((l) => /^live \d+: opened/.test(l)).length;
      const before = opened();
      const sockets = wsOpened;
      const results = await Promise.allSettled([
        c.addLiveMatte(SOURCE, { model: 'rvm', width: 160 }),
        c.addLiveMatte(SOURCE, { model: 'rvm', width: 160 }),
        c.addLiveMatte(CARD, { model: 'rvm', width: 64 }),
      ]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'already_live' });
      expect(opened() - before).toBe(2);
      expect(wsOpened - sockets).toBe(1);
      await expect.poll(async () => (await c.status()).mattes.map((m) => m.stats?.matted ?? 0).every((n) => n > 1), { timeout: 60_000 }).toBe(true);
      await c.removeLiveMatte(SOURCE);
      await c.removeLiveMatte(CARD);
      expect(eng.log.filter((l) => /^live \d+: closed/.test(l)).length).toBeGreaterThanOrEqual(2);
      expect((await c.status()).mattes).toEqual([]);
      // No loop is left sending frames to a closed session (the engine would refuse them).
      const refusedBefore = log.filter((l) => /refused a frame/.test(l)).length;
      await new Promise((r) => setTimeout(r, 1500));
      expect(log.filter((l) => /refused a frame/.test(l)).length).toBe(refusedBefore);
      expect(await layerInput()).toBeUndefined();
    } finally {
      await c.close();
    }
  }, 120_000);

  it('hides the original only once the matte is on screen, shows it while the engine is away, resumes on the restarted engine', async () => {
    const log: string[] = [];
    const c = controllerFor({}, log);
    await c.connect();
    try {
      const added = await c.addLiveMatte(SOURCE, { model: 'rvm', width: W, hideOriginal: true });
      // Not at once: the layer is still transparent until the engine serves its first matte.
      expect(await sourcePosition()).toEqual(HOME);
      await expect.poll(hidden, { timeout: 60_000, interval: 100 }).toBe(true);
      // OBS shows the move before the controller has its answer to the request that made it.
      await expect.poll(async () => (await c.status()).mattes[0]?.originalHidden, { timeout: 10_000 }).toBe(true);
      const when = (await c.status()).mattes[0]!;
      expect(when.stats!.matted).toBeGreaterThan(0);
      expect(when.stats!.streamClients).toBe(1);
      // The program: the figure from the matte layer over the new backdrop (the README picture).
      // OBS's program can lag the layer's own frames under load: poll it.
      const sky = backdrop(640, 360);
      const at = (img: { data: Uint8Array; width: number; channels: number }, x: number, y: number): number[] => [
        ...img.data.subarray((y * img.width + x) * img.channels, (y * img.width + x) * img.channels + 3),
      ];
      const near = (a: number[], b: number[], tol: number): boolean => a.every((v, i) => Math.abs(v - b[i]!) < tol);
      let png: Uint8Array | undefined;
      await expect
        .poll(
          async () => {
            const shot = await obs.client();
            try {
              png = dataUriBytes((await shot.call('GetSourceScreenshot', { sourceName: SCENE, imageFormat: 'png', imageWidth: 640, imageHeight: 360 })).imageData);
            } finally {
              await shot.disconnect();
            }
            const program = await decodeRaw(png);
            // The figure's torso (it sways +-40 camera px; the torso is wider): its blue shirt; and
            // inside the camera's area away from the figure: the backdrop, not the room's wall.
            return near(at(program, 320, 240), [40, 70, 140], 45) && near(at(program, 110, 75), at(sky, 110, 75), 40);
          },
          { timeout: 30_000, interval: 500 },
        )
        .toBe(true);
      expect(await hidden()).toBe(true); // and the original is still away
      await mkdir(path.join(repo, 'test-artifacts'), { recursive: true });
      await writeFile(path.join(repo, 'test-artifacts', 'obs-program-person.png'), png!);

      // The engine stops: the original comes back (the layer would show nothing).
      await eng.stop();
      await expect.poll(async () => (await c.status()).engine, { timeout: 30_000 }).toBe('reconnecting');
      await expect.poll(sourcePosition, { timeout: 30_000 }).toEqual(HOME);
      expect(log.join('\n')).toMatch(/reconnecting to the engine/);

      // It starts again (new port and token): the matte reopens there, the layer follows, hidden again.
      await eng.start();
      await expect.poll(async () => (await c.status()).engine, { timeout: 60_000 }).toBe('connected');
      await expect.poll(async () => (await c.status()).mattes[0]?.running ?? false, { timeout: 30_000 }).toBe(true);
      const now = (await c.status()).mattes[0]!;
      expect(now.session.streamUrl).not.toBe(added.session.streamUrl);
      await expect.poll(() => layerInput(), { timeout: 30_000 }).toBe(now.session.streamUrl);
      await expect.poll(async () => (await c.status()).mattes[0]?.stats?.matted ?? 0, { timeout: 60_000 }).toBeGreaterThan(2);
      await expect.poll(hidden, { timeout: 60_000 }).toBe(true);
      expect(log.join('\n')).toMatch(/resumed on the restarted engine/);

      await c.removeLiveMatte(SOURCE);
      expect(await sourcePosition()).toEqual(HOME);
      expect(await layerInput()).toBeUndefined();
    } finally {
      await c.close();
    }
  }, 240_000);

  it('cleanplate obs run rides out an engine restart, and exits 1 when the engine does not come back', async () => {
    const run = cli('run', '--source', SOURCE, '--model', 'rvm', '--width', '160', '--engine-wait', '8', '--duration', '120');
    try {
      await expect.poll(() => run.stdout, { timeout: 60_000 }).toMatch(/Camera: [\d.]+ fps/);
      await eng.stop();
      await expect.poll(() => run.stdout, { timeout: 30_000 }).toMatch(/engine away for \d+ s, reconnecting/);
      await eng.start();
      await expect.poll(() => run.stderr, { timeout: 60_000 }).toMatch(/resumed on the restarted engine/);
      const resumedAt = run.stdout.length;
      await expect.poll(() => run.stdout.slice(resumedAt), { timeout: 30_000 }).toMatch(/Camera: [\d.]+ fps/);
      // Gone for good: it says so and exits non-zero (after --engine-wait), removing its layer.
      await eng.stop();
      expect(await run.exited).toBe(1);
      expect(run.stderr).toMatch(/the engine did not come back within 8 s/);
      expect(await layerInput()).toBeUndefined();
    } finally {
      run.child.kill('SIGKILL');
      if (!eng.engine) await eng.start();
    }
  }, 240_000);

  it("a killed controller's layout is noticed by obs status with the repair command; obs remove repairs it and says so once", async () => {
    const run = cli('run', '--source', SOURCE, '--model', 'rvm', '--width', '160', '--hide-original', '--duration', '120');
    try {
      await expect.poll(hidden, { timeout: 90_000, interval: 200 }).toBe(true);
    } finally {
      run.child.kill('SIGKILL'); // as a crash would: no cleanup
    }
    await run.exited;
    const status = await cliDone('status');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Camera\tffmpeg_source\tno background captured/m);
    expect(status.stdout).toContain('left behind: "Camera": a matte layer and the original moved off the canvas');
    expect(status.stdout).toContain('repair with cleanplate obs remove --source "Camera"');

    const remove = await cliDone('remove', '--source', SOURCE);
    expect(remove.code).toBe(0);
    expect((remove.stdout + remove.stderr).match(/removed the live matte/g)).toHaveLength(1);
    expect(await sourcePosition()).toEqual(HOME);
    expect(await layerInput()).toBeUndefined();
    const after = await cliDone('status');
    expect(after.stdout).not.toContain('left behind');

    const capture = await cliDone('capture', '--source', SOURCE);
    expect(capture.code).toBe(0);
    expect((await cliDone('status')).stdout).toMatch(/^Camera\tffmpeg_source\tbackground captured \([0-9a-f]{24}\)/m);
  }, 240_000);
});
