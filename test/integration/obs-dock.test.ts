// The OBS dock page as a user drives it: served by a real engine at /obs/ (no secret in the page;
// the panel key comes in the URL fragment, as `cleanplate obs dock-url` prints it), loaded in headless Chromium, connected to a real OBS under Xvfb; connect, capture,
// add the live matte, read the status, remove. Everything on loopback.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dockUrl } from '../../src/engine/auth/panel-key.js';
import { matteLayerName } from '../../src/obs/scene-layers.js';
import { dataUriBytes } from '../../src/obs/frame-loop.js';
import { chromiumAvailable, launchChromium } from '../support/chromium.js';
import { rawRequest, startTestEngine, type TestEngine } from '../support/engine.js';
import WebSocket from 'ws';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { uploadBackground } from '../../src/shared/engine-client.js';
import { decodeRaw, meanIn, texturedPlate, toPng, withSquare } from '../support/images.js';
import { findSubject, makeLiveMedia, SUBJECT_RGB } from '../support/live-media.js';
import { obsAvailable, ObsInstance } from '../support/obs.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
const PASSWORD = 'dock-test-pw';
const SOURCE = 'Camera';
const SCENE = 'Live';
/** OBS colours are 0xAABBGGRR: this is opaque rgb(40, 170, 60). */
const BACKDROP_ABGR = 0xff3caa28;
const BACKDROP_RGB = [40, 170, 60];

let dir: string;
let engine: TestEngine;
let obs: ObsInstance;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  if (!obsAvailable() || !chromiumAvailable()) throw new Error('these tests need obs-studio, xvfb, gcc and chromium (".ci/run" installs them)');
  // The page the engine serves is the built one: build it as `npm run build` does.
  await promisify(execFile)(process.execPath, [path.join(repo, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'panels/obs', '--logLevel', 'warn'], { cwd: repo });
  dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-dock-'));
  const media = await makeLiveMedia(dir);
  engine = await startTestEngine();
  obs = await ObsInstance.start({
    canvas: { width: 640, height: 360 },
    scene: SCENE,
    password: PASSWORD,
    items: [
      // A new backdrop under the camera: with the original hidden, the subject shows over it.
      { name: 'Backdrop', kind: 'color_source_v3', settings: { color: BACKDROP_ABGR, width: 640, height: 360 } },
      { name: SOURCE, kind: 'ffmpeg_source', settings: { is_local_file: true, local_file: media.clip, looping: true }, scale: { x: 2, y: 2 } },
    ],
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 340, height: 640 } });
});

afterAll(async () => {
  await page?.close().catch(() => undefined);
  await browser?.close();
  await obs?.stop();
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function layerExists(): Promise<boolean> {
  const c = await obs.client();
  try {
    return (await c.call('GetInputList')).inputs.some((i) => i.inputName === matteLayerName(SOURCE));
  } finally {
    await c.disconnect();
  }
}

async function sceneItemEnabled(name: string): Promise<boolean | undefined> {
  const c = await obs.client();
  try {
    return (await c.call('GetSceneItemList', { sceneName: SCENE })).sceneItems.find((i) => i.sourceName === name)?.sceneItemEnabled as boolean | undefined;
  } finally {
    await c.disconnect();
  }
}

async function sourcePosition(): Promise<{ x: number; y: number }> {
  const c = await obs.client();
  try {
    const item = (await c.call('GetSceneItemList', { sceneName: SCENE })).sceneItems.find((i) => i.sourceName === SOURCE)!;
    const t = (await c.call('GetSceneItemTransform', { sceneName: SCENE, sceneItemId: item.sceneItemId as number })).sceneItemTransform;
    return { x: t.positionX as number, y: t.positionY as number };
  } finally {
    await c.disconnect();
  }
}

/** The scene as OBS renders it: subject colour in the subject's core, backdrop colour far from it. */
async function programShowsSubjectOverBackdrop(): Promise<boolean> {
  const c = await obs.client();
  let shot: string;
  try {
    shot = (await c.call('GetSourceScreenshot', { sourceName: SCENE, imageFormat: 'png', imageWidth: 640, imageHeight: 360 })).imageData;
  } finally {
    await c.disconnect();
  }
  const img = await decodeRaw(dataUriBytes(shot));
  const box = findSubject(img.data, img.width, img.height, img.channels);
  if (box.count < 5000) return false;
  const near = (x: number, y: number, rgb: readonly number[]): boolean => {
    const i = (y * img.width + x) * img.channels;
    return rgb.every((v, c2) => Math.abs(img.data[i + c2]! - v) < 30);
  };
  // Every 4th pixel at least 80 px left or right of the subject must be backdrop.
  let far = 0;
  let backdrop = 0;
  for (let y = 0; y < img.height; y += 4) {
    for (let x = 0; x < img.width; x += 4) {
      if (x > box.x0 - 80 && x < box.x1 + 80) continue;
      far++;
      if (near(x, y, BACKDROP_RGB)) backdrop++;
    }
  }
  const cx = Math.round((box.x0 + box.x1) / 2);
  const cy = Math.round((box.y0 + box.y1) / 2);
  return far > 0 && backdrop / far > 0.98 && near(cx, cy, SUBJECT_RGB);
}

describe('OBS dock page (Chromium, real engine and OBS)', () => {
  it('is served at /obs/ without any secret in it, to loopback hosts only, with no CORS headers', async () => {
    const key = engine.engine.panelKey()!;
    expect(key).toMatch(/^[0-9a-f]{64}$/);
    for (const route of ['/obs/', '/obs/layer.html']) {
      const res = await fetch(`${engine.url}${route}`, { headers: { origin: 'null' } });
      expect(res.status, route).toBe(200);
      expect(res.headers.get('access-control-allow-origin'), route).toBeNull();
      const html = await res.text();
      expect(html).not.toContain(engine.token);
      expect(html).not.toContain(key);
    }
    const rebound = await rawRequest(engine.url, { path: '/obs/', headers: { host: 'attacker.example' } });
    expect(rebound.status).toBe(403);
    const foreign = await fetch(`${engine.url}/obs/`, { headers: { origin: 'https://attacker.example' } });
    expect(foreign.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('without a key in its URL, says where to get the dock URL', async () => {
    await page.goto(`${engine.url}/obs/`);
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toMatch(/cleanplate obs dock-url/);
  });

  it('connects, captures, adds and removes the live matte from the dock', async () => {
    await page.goto(`${dockUrl(engine.engine.port, engine.engine.panelKey()!).replace('/obs/', `/obs/?obs=${encodeURIComponent(obs.url)}`)}&password=${PASSWORD}`);
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('status').textContent(), { timeout: 30_000 }).toMatch(/OBS 29\.\d+\.\d+ connected/);
    // The password came in the fragment and stays there: the page stores neither it nor the key.
    const stored = String(await page.evaluate('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })'));
    expect(stored).not.toContain(PASSWORD);
    expect(stored).not.toContain(engine.engine.panelKey()!);
    // Both inputs of the scene are offered; pick the camera.
    await page.getByLabel('Video source').selectOption(SOURCE);
    expect(await page.getByLabel('Video source').locator('option').allTextContents()).toEqual(expect.arrayContaining(['Backdrop', SOURCE]));
    // The engine's models are offered; the default (which needs a plate) cannot go live before a capture.
    const modelOptions = await page.getByLabel('Model').locator('option').allTextContents();
    expect(modelOptions.filter((o) => o.includes('(default)'))).toHaveLength(1);
    expect(modelOptions.some((o) => o.startsWith('plate'))).toBe(true);
    expect(modelOptions.some((o) => o.startsWith('rvm (no background needed)'))).toBe(true);
    expect(await page.getByRole('button', { name: 'Add live matte' }).isDisabled()).toBe(true);

    // Capture while the subject is out of the picture (the clip's first seconds), as a user would.
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Capture background' }).click();
          await page.getByRole('img', { name: `clean plate of ${SOURCE}` }).waitFor({ timeout: 30_000 });
          const c = await obs.client();
          const { slotValue } = await c.call('GetPersistentData', { realm: 'OBS_WEBSOCKET_DATA_REALM_PROFILE', slotName: `cleanplate.background.${SOURCE}` });
          await c.disconnect();
          const plate = await decodeRaw(new Uint8Array(await (await engine.api(`/v1/backgrounds/${String(slotValue)}/image`)).arrayBuffer()));
          return findSubject(plate.data, plate.width, plate.height, plate.channels).count;
        },
        { timeout: 60_000, interval: 500 },
      )
      .toBe(0);

    await page.getByLabel('Hide the original source').check();
    await page.getByRole('button', { name: 'Add live matte' }).click();
    await expect.poll(layerExists, { timeout: 30_000 }).toBe(true);
    // The program output: the subject from the matte layer over the new backdrop, the old
    // background gone (the original is hidden, the layer is transparent around the subject).
    await expect.poll(programShowsSubjectOverBackdrop, { timeout: 60_000, interval: 300 }).toBe(true);
    await expect.poll(async () => parseFloat((await page.getByTestId('fps').textContent()) ?? ''), { timeout: 60_000 }).toBeGreaterThan(0);
    // The default size comes from the model's measured speed, and the dock says so.
    expect(await page.getByTestId('size').textContent()).toMatch(/^320x180 \(auto: model \d+ ms\/frame here, target 15 fps\)$/);
    await expect.poll(() => page.getByRole('button', { name: 'Remove live matte' }).isVisible()).toBe(true);
    await mkdir(path.join(repo, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(repo, 'test-artifacts', 'obs-dock.png'), fullPage: true });
    const c = await obs.client();
    const program = (await c.call('GetSourceScreenshot', { sourceName: SCENE, imageFormat: 'png', imageWidth: 640, imageHeight: 360 })).imageData;
    await c.disconnect();
    await writeFile(path.join(repo, 'test-artifacts', 'obs-program.png'), dataUriBytes(program));

    await page.getByRole('button', { name: 'Remove live matte' }).click();
    await expect.poll(layerExists, { timeout: 30_000 }).toBe(false);
    expect(await sceneItemEnabled(SOURCE)).toBe(true);
    await expect.poll(sourcePosition, { timeout: 30_000 }).toEqual({ x: 0, y: 0 }); // the original is back where it was
    await expect.poll(() => page.getByRole('button', { name: 'Add live matte' }).isVisible()).toBe(true);
    expect(await page.getByRole('alert').count()).toBe(0);
  }, 240_000);

  it('shows a clear error for a wrong OBS password', async () => {
    await page.goto(`${engine.url}/obs/?obs=${encodeURIComponent(obs.url)}#key=${engine.engine.panelKey()!}&password=wrong`);
    await page.reload(); // only the fragment changed: load the page afresh
    await page.getByRole('button', { name: 'Connect' }).click();
    await expect.poll(() => page.getByRole('alert').textContent(), { timeout: 30_000 }).toMatch(/refused the password/);
  });

  it("draws a live session's mattes with alpha on the layer page (for Browser Sources)", async () => {
    const W = 160;
    const H = 96;
    const plate = texturedPlate(W, H, 3);
    const square = { x: 50, y: 20, size: 48, color: [230, 40, 170] as const };
    const endpoint = { url: engine.url, token: engine.token };
    const live = await LiveConnection.connect(endpoint, (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
    try {
      const { id } = await uploadBackground(endpoint, await toPng(plate));
      const session = await live.openSession({ backgroundId: id, width: W, height: H });
      const layerPage = await browser.newPage({ viewport: { width: W, height: H } });
      try {
        await layerPage.goto(`${engine.url}/obs/layer.html?session=${session.sessionId}#watch=${session.watchKey}`);
        await expect.poll(() => layerPage.locator('body').getAttribute('data-state'), { timeout: 30_000 }).toBe('watching');
        const frame = await toPng(withSquare(plate, square));
        let shot: Awaited<ReturnType<typeof decodeRaw>> | undefined;
        await expect
          .poll(
            async () => {
              live.sendFrame(session.sessionId, 1, Date.now(), 'png', W, H, frame);
              shot = await decodeRaw(await layerPage.screenshot({ omitBackground: true }));
              return meanIn(shot, { x: square.x + 10, y: square.y + 10, w: square.size - 20, h: square.size - 20 }, 3);
            },
            { timeout: 60_000, interval: 500 },
          )
          .toBeGreaterThan(240);
        expect(shot!.channels).toBe(4);
        expect(meanIn(shot!, { x: 110, y: 10, w: 40, h: 70 }, 3)).toBeLessThan(15); // transparent over the background
        expect(Math.abs(meanIn(shot!, { x: square.x + 10, y: square.y + 10, w: 20, h: 20 }, 0) - square.color[0])).toBeLessThan(20);
      } finally {
        await layerPage.close();
      }
    } finally {
      live.disconnect();
    }
  }, 120_000);
});
