// The Premiere UXP plugin end to end, as close to real as this machine allows: the built plugin
// (panels/premiere-uxp/dist, vite-uxp-plugin) in headless Chromium with a UXP shim whose
// `premierepro` is the FAKE module (Premiere cannot run here) enforcing lockedAccess and
// executeTransaction, and a real engine on 127.0.0.1 running real jobs with ffmpeg and
// onnxruntime. engine.json is found as in UXP: os.homedir() + the config folder, read with fs
// through a file:/ URL. Screenshots go to test-artifacts/premiere-uxp/.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobList } from '../../src/shared/api.js';
import { REPO } from '../../scripts/premiere-build.js';
import { buildPremiereUxp } from '../../scripts/premiere-uxp.js';
import { subjectRect } from '../support/clips.js';
import type { TestEngine } from '../support/engine.js';
import { probeMedia } from '../support/premierepro-probe.js';
import { alphaMean, makeTake, PLATE_FRAMES, TAKE_H, TAKE_W, type Take } from '../support/premiere-take.js';
import { startPanelRig, type PanelRig } from '../support/panel-rig.js';
import { openUxpPanel } from '../support/uxp-shim.js';

let rig: PanelRig;
let dist: string;
let dir: string;
let home: string;
let take: Take;
let engine: TestEngine;

beforeAll(async () => {
  dist = await buildPremiereUxp();
  rig = await startPanelRig({
    prefix: 'cp-uxp-panel-',
    artifacts: path.join(REPO, 'test-artifacts', 'premiere-uxp'),
    // The engine's default config folder under the test's home, as UXP (no environment) computes it.
    engine: (d) => ({ configDir: path.join(d, 'home', '.config', 'cleanplate') }),
  });
  ({ dir, engine } = rig);
  home = path.join(dir, 'home');
  take = await makeTake(dir);
});

afterAll(async () => {
  await rig?.close();
});

/** The fake project seen from the test: plain data read in the page. */
interface ProjectView {
  video: [string, string, string][][];
  audio: [string, string, string][][];
  bin: string[] | null;
  undo: string[];
  log: string[];
  clip: { start: string; end: string };
}

type PageUxp = {
  project: {
    addSequence(
      n: string,
      r: object,
      o: object,
    ): {
      frame(n: number): bigint;
      playhead: bigint;
      addClip(i: unknown, o: object): unknown;
      select(c: unknown): void;
      video: { clips: { name: string; start: bigint; end: bigint }[] }[];
      audio: { clips: { name: string; start: bigint; end: bigint }[] }[];
    };
    addMedia(p: string, m?: object): Promise<unknown>;
    root: { children: { name: string; children: { mediaPath: string }[] }[] };
    log: string[];
  };
  fake: { undo: string[] };
  state: Record<string, unknown>;
};

/** "Interview" (25 fps, 320x180, `videoTracks` tracks, A1-A2): take.mp4 on V1 from frame 25 with linked audio, a title on V2 over part of it. */
async function setupProject(page: Page, videoTracks: number): Promise<void> {
  await page.evaluate(
    async ({ media, videoTracks }) => {
      const u = (globalThis as unknown as { __uxp: PageUxp }).__uxp;
      const seq = u.project.addSequence('Interview', { num: 25, den: 1 }, { width: 320, height: 180, videoTracks, audioTracks: 2 });
      const item = await u.project.addMedia(media);
      u.state.clip = seq.addClip(item, { track: 0, startFrame: 25, inFrame: 0, frames: 75, linkedAudioTrack: 0 });
      const title = await u.project.addMedia('/titles/lower-third.png', { rate: { num: 25, den: 1 }, frames: 1000, hasAudio: false });
      seq.addClip(title, { track: 1, startFrame: 40, frames: 20, name: 'Lower third' });
      u.state.seq = seq;
    },
    { media: take.path, videoTracks },
  );
}

async function project(page: Page): Promise<ProjectView> {
  return page.evaluate(() => {
    const u = (globalThis as unknown as { __uxp: PageUxp }).__uxp;
    const seq = u.state.seq as ReturnType<PageUxp['project']['addSequence']>;
    const clip = u.state.clip as { start: bigint; end: bigint };
    const row = (c: { name: string; start: bigint; end: bigint }): [string, string, string] => [c.name, String(c.start), String(c.end)];
    const bin = u.project.root.children.find((c) => c.name === 'CleanPlate Mattes');
    return {
      video: seq.video.map((t) => t.clips.map(row)),
      audio: seq.audio.map((t) => t.clips.map(row)),
      bin: bin ? bin.children.map((c) => c.mediaPath) : null,
      undo: [...u.fake.undo],
      log: [...u.project.log],
      clip: { start: String(clip.start), end: String(clip.end) },
    };
  });
}

async function openPanel(homedir: string): Promise<Page> {
  const page = await rig.newPage();
  await openUxpPanel(page, path.join(dist, 'index.html'), { platform: 'linux', homedir });
  return page;
}

const shot = (page: Page, name: string): Promise<Buffer> => rig.shot(page, name);

async function connected(page: Page): Promise<void> {
  await page
    .getByLabel('Engine status')
    .filter({ hasText: /^Engine \d+\.\d+\.\d+/ })
    .waitFor({ timeout: 15_000 });
}

async function selectClip(page: Page): Promise<void> {
  await page.evaluate(() => {
    const u = (globalThis as unknown as { __uxp: PageUxp }).__uxp;
    (u.state.seq as { select(c: unknown): void }).select(u.state.clip);
  });
  await page.getByLabel('Selected clip').getByText('take.mp4').waitFor();
}

describe('Premiere UXP plugin in Chromium on the fake premierepro module and a real engine', () => {
  it('finds the engine through engine.json, recaptures the plate at the playhead, renders, and places the matte on the free track above, frame-exactly', async () => {
    const page = await openPanel(home);
    await connected(page);
    await setupProject(page, 3);
    await selectClip(page);
    expect(await page.getByLabel('Selected clip').textContent()).toMatch(/V1.*source 00:00:00:00-00:00:03:00 · at 00:00:01:00/);
    await shot(page, '01-clip-selected');

    // Playhead on source frame 4 (the empty scene).
    await page.evaluate(() => {
      const u = (globalThis as unknown as { __uxp: PageUxp }).__uxp;
      const seq = u.state.seq as { frame(n: number): bigint; playhead: bigint };
      seq.playhead = seq.frame(25 + 4);
    });
    await page.getByRole('button', { name: 'Recapture background' }).click();
    await page.getByRole('status').getByText('Background recaptured from 00:00:01:04').waitFor();
    await page.getByRole('img', { name: 'Plate in use' }).waitFor();
    await shot(page, '02-plate-recaptured');

    const before = await project(page);
    expect(before.undo).toEqual([]);
    await page.getByRole('button', { name: 'Apply matte' }).click();
    await page
      .getByLabel('Progress')
      .getByText(/take\.mp4: rendering.*frames [1-9]\d*\/75/)
      .first()
      .waitFor({ timeout: 30_000 });
    await shot(page, '03-progress');
    await page
      .getByRole('status')
      .getByText(/Matte for "take.mp4" placed on V3/)
      .waitFor({ timeout: 60_000 });
    await page.getByLabel('Recent jobs').getByText('placed on V3').waitFor();
    await shot(page, '04-placed');

    const after = await project(page);
    // V3 holds the matte exactly over the clip; V1, V2 and the audio are as they were.
    expect(after.video[2]).toEqual([['Cut-out: take.mp4', after.clip.start, after.clip.end]]);
    expect(after.video[0]).toEqual(before.video[0]);
    expect(after.video[1]).toEqual(before.video[1]);
    expect(after.audio).toEqual(before.audio);
    expect(after.bin).toHaveLength(1);
    const matte = after.bin![0]!;
    expect(matte).toMatch(/take_f0-74_prores4444\.mov$/);
    // Every edit went through a locked transaction (the fake throws otherwise).
    expect(after.undo).toEqual(['CleanPlate: create the "CleanPlate Mattes" bin', 'CleanPlate: place matte', 'CleanPlate: name matte']);
    expect(after.log.filter((l) => l.startsWith('overwrote'))).toEqual([]);
    // A real, frame-aligned matte: 75 frames, opaque on the subject, clear elsewhere.
    expect((await probeMedia(matte))!.frames).toBe(75);
    const rect = subjectRect(20 - PLATE_FRAMES, TAKE_W, TAKE_H);
    expect(await alphaMean(matte, 20, rect, true)).toBeGreaterThan(200);
    expect(await alphaMean(matte, 20, rect, false)).toBeLessThan(30);
  });

  it('no free track above: refused before rendering, no job, the project untouched', async () => {
    const page = await openPanel(home);
    await connected(page);
    await setupProject(page, 2);
    await selectClip(page);
    await page.evaluate((plate) => (globalThis as unknown as { __uxp: { pick(p: string): void } }).__uxp.pick(plate), take.platePath);
    await page.getByRole('button', { name: 'Choose plate file...' }).click();
    await page.getByRole('img', { name: 'Plate in use' }).waitFor();
    const jobsBefore = ((await (await engine.api('/v1/jobs')).json()) as JobList).jobs.length;
    const before = await project(page);
    await page.getByRole('button', { name: 'Apply matte' }).click();
    await page
      .getByRole('alert')
      .getByText(/No free video track above V1 over 00:00:01:00-00:00:04:00 \(V2 in use there\)/)
      .waitFor();
    await shot(page, '10-no-free-track');
    expect(((await (await engine.api('/v1/jobs')).json()) as JobList).jobs.length).toBe(jobsBefore);
    expect(await project(page)).toEqual(before);
  });

  it('engine.json not there: says how to start the engine; a pasted panel key (dock URL) connects', async () => {
    const page = await openPanel(path.join(dir, 'other-home'));
    await page.getByLabel('Engine', { exact: true }).getByText('The CleanPlate engine is not running.').waitFor({ timeout: 15_000 });
    expect(await page.getByRole('button', { name: 'Recapture background' }).isDisabled()).toBe(true);
    await shot(page, '20-engine-not-running');
    // And the engine.json the first tests used really is the engine's (0600, the port it listens on).
    expect(JSON.parse(await readFile(engine.engine.configFile!, 'utf8'))).toMatchObject({ port: Number(new URL(engine.url).port) });

    // An engine whose engine.json UXP cannot see: the panel key (dock URL) pasted once connects.
    const key = page.getByLabel('Panel key');
    await key.fill('not a key');
    await page.getByRole('button', { name: 'Use panel key' }).click();
    await page
      .getByRole('alert')
      .getByText(/That is not a panel key/)
      .waitFor();
    await key.fill(`http://127.0.0.1:${new URL(engine.url).port}/obs/#key=${engine.engine.panelKey()!}`);
    await page.getByRole('button', { name: 'Use panel key' }).click();
    await connected(page);
    await page.getByRole('status').getByText('Connected with the panel key; it is kept for next time.').waitFor();
    await shot(page, '21-connected-with-panel-key');
  });
});
