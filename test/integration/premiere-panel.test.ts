// The Premiere panel end to end, as close to real as this machine allows: the built extension
// (panels/premiere/dist) in headless Chromium, a CEP bridge shim that runs the built ES3 host
// script against a FAKE Premiere DOM (Premiere cannot run here), and a real engine on 127.0.0.1
// running real jobs with ffmpeg and onnxruntime on generated clips. Screenshots of each step go to
// test-artifacts/premiere/.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, truncate } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackgroundList, EngineConfigFile, JobList } from '../../src/shared/api.js';
import { buildPremiere, REPO } from '../../scripts/premiere-build.js';
import { openPanel, queueOpenDialog } from '../support/cep-shim.js';
import { makeClip, subjectRect, type GeneratedClip } from '../support/clips.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { startPanelRig, type PanelRig } from '../support/panel-rig.js';
import { fakePremiere, type FakeProject, type FakeSequence, type FakeTrackItem } from '../support/premiere-fake.js';
import { Es3Host } from '../support/premiere-host.js';
import { alphaMean, makeTake, PLATE_FRAMES, TAKE_H, TAKE_W } from '../support/premiere-take.js';

const W = TAKE_W;
const H = TAKE_H;

let rig: PanelRig;
let dist: string;
let dir: string;
let take: string;
let takePlate: string;
let long: GeneratedClip;
let engine: TestEngine;

beforeAll(async () => {
  dist = await buildPremiere();
  rig = await startPanelRig({ prefix: 'cp-ppro-panel-', artifacts: path.join(REPO, 'test-artifacts', 'premiere') });
  ({ dir, engine } = rig);
  ({ path: take, platePath: takePlate } = await makeTake(dir));
  long = await makeClip(dir, 'long', { frames: 150, rate: '25' });
});

afterAll(async () => {
  await rig?.close();
});

interface PanelUnderTest {
  readonly page: Page;
  readonly project: FakeProject;
  readonly seq: FakeSequence;
  readonly clip: FakeTrackItem;
  readonly host: Es3Host;
}

/**
 * A fake Premiere project: sequence "Interview" (25 fps, V1-V3, A1-A2) with `media` on V1 from
 * frame 25 (linked audio on A1) and a user's title on V2 over part of it; the panel open on it.
 */
async function panelOn(media: string, env: Record<string, string>, frames: number): Promise<PanelUnderTest> {
  const { app, project } = fakePremiere();
  const seq = project.addSequence('Interview', '25', { width: W, height: H });
  const item = project.addMedia(media);
  const clip = seq.addClip(item, { track: 0, startFrame: 25, inFrame: 0, frames, linkedAudioTrack: 0 });
  const title = project.addMedia(takePlate, { rate: { num: 25, den: 1 }, frames: 1000 });
  seq.addClip(title, { track: 1, startFrame: 40, frames: 20, name: 'Lower third' });
  const host = await Es3Host.load(app);
  const page = await rig.newPage();
  await openPanel(page, path.join(dist, 'index.html'), { host, env, homedir: os.homedir() });
  return { page, project, seq, clip, host };
}

/** A real engine process (as `npm start` runs it) on a free port with its files under `root`. */
async function startEngineProcess(root: string): Promise<{ kill(): Promise<void> }> {
  const configFile = path.join(root, 'config', 'engine.json');
  await rm(configFile, { force: true });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts'], {
    cwd: REPO,
    env: { ...process.env, CLEANPLATE_PORT: '0', CLEANPLATE_CONFIG_DIR: path.join(root, 'config'), CLEANPLATE_DATA_DIR: path.join(root, 'data') },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const deadline = Date.now() + 30_000;
  for (;;) {
    const config = await readFile(configFile, 'utf8').then(
      (t) => JSON.parse(t) as EngineConfigFile,
      () => undefined,
    );
    if (config?.pid === child.pid) break;
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`engine did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    kill: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    },
  };
}

const shot = (page: Page, name: string): Promise<Buffer> => rig.shot(page, name);
const engineEnv = (t: TestEngine): Record<string, string> => ({ CLEANPLATE_CONFIG_DIR: t.configDir });

async function connected(page: Page): Promise<void> {
  await page
    .getByLabel('Engine status')
    .filter({ hasText: /^Engine \d+\.\d+\.\d+/ })
    .waitFor({ timeout: 15_000 });
}

async function selectAndPlate(p: PanelUnderTest, plateFile: string): Promise<void> {
  // The plate model, fast on any machine (where a learned model is installed it would be the default).
  await p.page.getByLabel('Model').selectOption('plate');
  p.seq.select(p.clip);
  await p.page.getByLabel('Selected clip').getByText(path.basename(p.clip.projectItem.getMediaPath())).waitFor();
  await queueOpenDialog(p.page, plateFile);
  await p.page.getByRole('button', { name: 'Choose plate file...' }).click();
  await p.page.getByRole('img', { name: 'Plate in use' }).waitFor();
}

/** Waits until the progress bar shows at least `frames` of the job done. */
async function progressed(page: Page, frames: number): Promise<void> {
  await page
    .getByLabel('Progress')
    .getByText(new RegExp(`frames ([${frames}-9]|\\d\\d+)\\d*/`))
    .first()
    .waitFor({ timeout: 30_000 });
}

describe('Premiere panel in Chromium with the ES3 host on a fake Premiere DOM and a real engine', () => {
  it('recaptures the background from the playhead frame, applies the matte with progress, imports and places it frame-exactly', async () => {
    const p = await panelOn(take, engineEnv(engine), 75);
    const { page, seq, clip, project } = p;
    await connected(page);
    await page.getByLabel('Selected clip').getByText('Select a clip on the timeline').waitFor();
    await shot(page, '01-connected');

    // Clicking the clip on the timeline: the host's selection event updates the panel.
    seq.select(clip);
    const clipCard = page.getByLabel('Selected clip');
    await clipCard.getByText('take.mp4').waitFor();
    expect(await clipCard.textContent()).toMatch(/V1.*source 00:00:00:00-00:00:03:00 · at 00:00:01:00/);
    await shot(page, '02-clip-selected');

    // Playhead on a frame where the subject is not in the picture (source frame 4).
    seq.playheadTicks = seq.frame(25 + 4);
    await page.getByRole('button', { name: 'Recapture background' }).click();
    await page.getByRole('status').getByText('Background recaptured from 00:00:01:04').waitFor();
    const img = page.getByRole('img', { name: 'Plate in use' });
    await img.waitFor();
    await expect.poll(() => img.evaluate((el) => (el as unknown as { naturalWidth: number }).naturalWidth)).toBe(W);
    const plates = (await (await engine.api('/v1/backgrounds')).json()) as BackgroundList;
    expect(plates.backgrounds.at(-1)!.source).toEqual({ kind: 'media', mediaPath: take, timeSeconds: 4 / 25, frameIndex: 4 });
    await shot(page, '03-plate-recaptured');

    const before = JSON.stringify(project.state());
    await page.getByRole('button', { name: 'Apply matte' }).click();
    await progressed(page, 1);
    expect(await page.getByLabel('Progress').textContent()).toMatch(/take\.mp4: rendering.*frames \d+\/75/);
    await shot(page, '04-progress');

    const placedNotice = page.getByRole('status').getByText(/Matte for "take.mp4" placed on V3/);
    await placedNotice.waitFor({ timeout: 45_000 });
    await page.getByLabel('Recent jobs').getByText('placed on V3').waitFor();
    await shot(page, '05-placed');
    expect(JSON.stringify(project.state())).not.toBe(before);

    // The project: the matte in the bin, on V3 exactly over the clip; V1, V2 and audio untouched.
    const bin = project.rootItem.items.find((i) => i.name === 'CleanPlate Mattes')!;
    expect(bin.items).toHaveLength(1);
    const matte = bin.items[0]!.getMediaPath();
    expect(matte).toMatch(/CleanPlate Mattes[\\/]take_f0-74_prores4444\.mov$/);
    const v3 = seq.videoTrackList[2]!.items;
    expect(v3.map((c) => [c.startTicks, c.endTicks])).toEqual([[clip.startTicks, clip.endTicks]]);
    expect(seq.videoTrackList[1]!.items.map((c) => c.name)).toEqual(['Lower third']);
    expect(seq.videoTrackList[0]!.items).toEqual([clip]);
    expect(project.log).toEqual([`importFiles ${matte}`, 'overwriteClip Video 3 take_f0-74_prores4444.mov']);
    // A real matte: where the subject is (source frame 20 = subject frame 10), opaque; elsewhere clear.
    const rect = subjectRect(20 - PLATE_FRAMES, W, H);
    expect(await alphaMean(matte, 20, rect, true)).toBeGreaterThan(200);
    expect(await alphaMean(matte, 20, rect, false)).toBeLessThan(30);
  });

  it('engine not running: says how to start it, changes nothing, and connects by itself once it runs', async () => {
    const empty = await mkdtemp(path.join(dir, 'no-engine-'));
    const p = await panelOn(take, { CLEANPLATE_CONFIG_DIR: empty }, 75);
    const { page, seq, clip, project } = p;
    seq.select(clip);
    const card = page.getByLabel('Engine', { exact: true });
    await card.getByText('The CleanPlate engine is not running.').waitFor();
    expect(await card.textContent()).toContain('npm start');
    await expect.poll(() => page.getByLabel('Engine status').textContent()).toBe('Engine not running');
    await page.getByLabel('Selected clip').getByText('take.mp4').waitFor();
    expect(await page.getByRole('button', { name: 'Apply matte' }).isDisabled()).toBe(true);
    expect(await page.getByRole('button', { name: 'Recapture background' }).isDisabled()).toBe(true);
    await shot(page, '10-engine-not-running');
    expect(project.log).toEqual([]);

    const late = await startTestEngine({ configDir: empty, warmUp: false });
    try {
      await connected(page);
      expect(await page.getByLabel('Engine', { exact: true }).count()).toBe(0);
    } finally {
      await late.stop();
    }
    expect(project.log).toEqual([]);
  });

  it('engine killed and restarted mid-job: the panel waits, then shows the job interrupted with nothing imported; Run again places it', async () => {
    const root = await mkdtemp(path.join(dir, 'restart-'));
    const configDir = path.join(root, 'config');
    let e = await startEngineProcess(root);
    try {
      const p = await panelOn(long.path, { CLEANPLATE_CONFIG_DIR: configDir }, 150);
      const { page, project } = p;
      await connected(page);
      await selectAndPlate(p, long.platePath);
      const before = JSON.stringify(project.state());
      await page.getByRole('button', { name: 'Apply matte' }).click();
      await progressed(page, 5);
      await e.kill(); // the engine crashes mid-render (its engine.json stays behind, stale)
      await page
        .getByRole('alert')
        .getByText(/Lost contact with the engine while rendering "long.mp4"/)
        .waitFor({ timeout: 15_000 });
      await page.getByLabel('Progress').getByText('waiting for the engine...').waitFor();
      await page.getByLabel('Engine status').getByText('Engine not running').waitFor({ timeout: 15_000 });
      await shot(page, '20-engine-stopped-mid-job');

      e = await startEngineProcess(root); // new port, new token
      await page
        .getByRole('alert')
        .getByText(/The engine stopped while rendering "long.mp4": nothing was imported/)
        .waitFor({ timeout: 20_000 });
      const jobs = page.getByLabel('Recent jobs');
      await jobs.getByText('interrupted').waitFor();
      await shot(page, '21-interrupted-after-restart');
      expect(JSON.stringify(project.state())).toBe(before);
      expect(project.log).toEqual([]);

      await jobs.getByRole('button', { name: 'Run again' }).click();
      await page
        .getByRole('status')
        .getByText(/Matte for "long.mp4" placed on V3/)
        .waitFor({ timeout: 60_000 });
      expect(p.seq.videoTrackList[2]!.items.map((c) => [c.startTicks, c.endTicks])).toEqual([[p.clip.startTicks, p.clip.endTicks]]);
      expect(project.log).toHaveLength(2); // one import, one placement
    } finally {
      await e.kill();
    }
  });

  it('user cancels: the engine stops the job, the panel says so and the project is untouched', async () => {
    const p = await panelOn(long.path, engineEnv(engine), 150);
    const { page, project } = p;
    await connected(page);
    await selectAndPlate(p, long.platePath);
    const before = JSON.stringify(project.state());
    await page.getByRole('button', { name: 'Apply matte' }).click();
    await progressed(page, 3);
    await page.getByLabel('Progress').getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('status').getByText('Cancelled "long.mp4": nothing was imported.').waitFor({ timeout: 15_000 });
    await page.getByLabel('Recent jobs').getByText('cancelled').waitFor();
    expect(await page.getByLabel('Progress').count()).toBe(0);
    await shot(page, '30-cancelled');
    expect(JSON.stringify(project.state())).toBe(before);
    expect(project.log).toEqual([]);
    const list = (await (await engine.api('/v1/jobs')).json()) as JobList;
    expect(list.jobs.at(-1)!.state).toBe('cancelled');
  });

  it("job failed: the engine's reason in plain words, nothing imported", async () => {
    const half = await makeClip(dir, 'half', { frames: 40, rate: '25', extraArgs: ['-movflags', '+faststart'] });
    await truncate(half.path, Math.floor((await stat(half.path)).size / 2));
    const p = await panelOn(half.path, engineEnv(engine), 40);
    const { page, project } = p;
    await connected(page);
    await selectAndPlate(p, half.platePath);
    const before = JSON.stringify(project.state());
    await page.getByRole('button', { name: 'Apply matte' }).click();
    const alert = page.getByRole('alert').getByText(/The matte for "half.mp4" failed: .+\. Nothing was imported\./);
    await alert.waitFor({ timeout: 30_000 });
    await page.getByLabel('Recent jobs').getByText('failed').waitFor();
    await shot(page, '40-job-failed');
    expect(JSON.stringify(project.state())).toBe(before);
    expect(project.log).toEqual([]);
  });
});
