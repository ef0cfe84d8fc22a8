// The panel's engine link and matte jobs (panels/premiere/src/engine-connection.ts, matte-jobs.ts)
// without React, against real engines running real clip jobs; Premiere is the built ES3 host
// script on the FAKE Premiere DOM (Premiere cannot run here), so placing imports the rendered file.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClipDescription } from '../../host/src/api.js';
import type { JobList, ModelInfo } from '../../src/shared/api.js';
import { backgroundFromMedia, getJob, type EngineEndpoint } from '../../src/shared/engine-client.js';
import { PanelMemory } from '../../panels/premiere/src/clip-jobs.js';
import { ENGINE_NOT_RUNNING, EngineConnection } from '../../panels/premiere/src/engine-connection.js';
import type { EngineLookup } from '../../panels/premiere/src/engine-locator.js';
import { engineAt } from '../../src/shared/engine-locator.js';
import { MatteJobs } from '../../panels/premiere/src/matte-jobs.js';
import type { PanelHost } from '../../panels/premiere/src/panel-host.js';
import { makeClip, type GeneratedClip } from '../support/clips.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { fakePremiere, type FakeSequence } from '../support/premiere-fake.js';
import { Es3Host } from '../support/premiere-host.js';

let dir: string;
let short: GeneratedClip;
let long: GeneratedClip;
let engine: TestEngine;
let ep: EngineEndpoint;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-matte-jobs-'));
  short = await makeClip(dir, 'short', { frames: 12, rate: '25' });
  long = await makeClip(dir, 'long', { frames: 150, rate: '25' });
  engine = await startTestEngine();
  ep = { url: engine.url, token: engine.token };
});

afterAll(async () => {
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const DEAD: EngineEndpoint = { url: 'http://127.0.0.1:1', token: 'x'.repeat(32) };

/** A real health request to whichever engine `where()` names, as the panels' locators end. */
function lookAt(where: () => EngineEndpoint): () => Promise<EngineLookup> {
  return () => engineAt(where(), 'not answering', '/nowhere/engine.json');
}

function mapStore(): PanelMemory {
  const m = new Map<string, string>();
  return new PanelMemory({ getItem: (k) => m.get(k) ?? null, setItem: (k, v) => void m.set(k, v) });
}

async function jobCount(): Promise<number> {
  return ((await (await engine.api('/v1/jobs')).json()) as JobList).jobs.length;
}

describe('EngineConnection (no React) against real engines', () => {
  it('finds the engine, lists models once per engine, again after a restart; none found: need() says how to start it', async () => {
    const other = await startTestEngine({ warmUp: false });
    try {
      let at = ep;
      const states: string[] = [];
      const lists: (readonly ModelInfo[])[] = [];
      const c = new EngineConnection({ locate: lookAt(() => at), changed: (s) => void states.push(s.state), models: (l) => void lists.push(l) });
      expect(c.current()).toBeUndefined();
      expect(() => c.need()).toThrow(ENGINE_NOT_RUNNING);
      expect(await c.locate()).toEqual(ep);
      await expect.poll(() => lists.length, { timeout: 15_000 }).toBe(1);
      expect(lists[0]!.find((m) => m.default)?.id).toBe('plate');
      await c.locate(); // the same engine: its models are not asked again
      at = { url: other.url, token: other.token }; // "restarted": another port and token
      expect(await c.locate()).toEqual(at);
      await expect.poll(() => lists.length, { timeout: 15_000 }).toBe(2);
      await new Promise((r) => setTimeout(r, 100));
      expect(lists).toHaveLength(2); // (had the same engine's look asked again, a third list would come)
      at = DEAD;
      expect(await c.locate()).toBeUndefined();
      expect(() => c.need()).toThrow(ENGINE_NOT_RUNNING);
      expect(states).toEqual(['connected', 'connected', 'connected', 'not_running']);
      c.stop();
    } finally {
      await other.stop();
    }
  });

  it('start() keeps looking, one look at a time, faster while not found; stop() ends it and nothing is said after', async () => {
    let inFlight = 0;
    let most = 0;
    let looks = 0;
    let at = DEAD;
    const said: string[] = [];
    const c = new EngineConnection({
      locate: async () => {
        looks++;
        most = Math.max(most, ++inFlight);
        try {
          return await lookAt(() => at)();
        } finally {
          inFlight--;
        }
      },
      changed: (s) => void said.push(s.state),
      models: () => undefined,
      lookingMs: 10,
      connectedMs: 60_000,
    });
    c.start();
    await expect.poll(() => looks, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    at = ep;
    await expect.poll(() => c.current(), { timeout: 15_000 }).toEqual(ep);
    const whenFound = looks;
    await new Promise((r) => setTimeout(r, 200));
    expect(looks).toBe(whenFound); // connected: the next look is a minute away
    c.stop();
    const count = said.length;
    await c.locate(); // a look after stop changes and says nothing
    expect(said.length).toBe(count);
    expect(most).toBe(1);
    expect(said.slice(0, 3)).toEqual(['not_running', 'not_running', 'not_running']);
    expect(said.at(-1)).toBe('connected');
  });
});

interface Bench {
  readonly seq: FakeSequence;
  readonly selected: ClipDescription;
  readonly memory: PanelMemory;
  readonly said: { level: string; text: string }[];
  readonly forgotten: string[];
  readonly jobs: MatteJobs;
  readonly connection: EngineConnection;
}

/** A fake Premiere sequence (25 fps, V1-V3) with `media` on V1 and selected; MatteJobs on it. */
async function bench(media: GeneratedClip, memory = mapStore(), at: EngineEndpoint = ep): Promise<Bench> {
  const { app, project } = fakePremiere();
  const seq = project.addSequence('Interview', '25', { width: media.width, height: media.height });
  const clip = seq.addClip(project.addMedia(media.path), { track: 0, startFrame: 25, frames: media.frames });
  seq.select(clip);
  const es3 = await Es3Host.load(app);
  const host: Pick<PanelHost, 'call'> = { call: async (name, ...args) => es3.call(name, ...args) };
  const selected = (await host.call('getSelection')).clips[0]!;
  const connection = new EngineConnection({ locate: lookAt(() => at), changed: () => undefined, models: () => undefined });
  await connection.locate();
  const said: { level: string; text: string }[] = [];
  const forgotten: string[] = [];
  const jobs = new MatteJobs({
    host,
    memory,
    engine: connection,
    changed: () => undefined,
    say: (level, text) => void said.push({ level, text }),
    plateForgotten: (p) => void forgotten.push(p),
    fps: () => 25,
    retryMs: 50,
  });
  return { seq, selected, memory, said, forgotten, jobs, connection };
}

async function withPlate(b: Bench, media: GeneratedClip): Promise<void> {
  const bg = await backgroundFromMedia(ep, { mediaPath: media.platePath });
  b.memory.setPlate(media.path, { backgroundId: bg.id, label: 'plate.png' });
}

describe('MatteJobs (no React) against a real engine and the FAKE Premiere DOM', () => {
  it('applies a matte: one job, followed to done, imported and placed above the clip; remembered for a reload that places nothing twice', async () => {
    const b = await bench(short);
    await withPlate(b, short);
    await b.jobs.apply({ clips: [b.selected], model: '', needsPlate: true, mode: 'trackMatte' });
    expect(b.jobs.jobs).toHaveLength(1);
    const id = b.jobs.jobs[0]!.id;
    await expect.poll(() => b.jobs.jobs[0]!.placed?.trackName, { timeout: 60_000 }).toBe('V2');
    expect(b.seq.videoTrackList[1]!.items.map((i) => i.name)).toEqual([`Track matte: ${b.selected.name}`]);
    expect(b.jobs.jobs[0]!.record!.state).toBe('done');
    expect(b.said.filter((s) => s.level === 'error')).toEqual([]);
    expect(b.said.at(-1)!.text).toMatch(/^Matte for "short.mp4" placed on V2 \(00:00:01:00-00:00:01:12\), in the bin "CleanPlate Mattes"\. Apply Track Matte Key \(Luma, Matte: V2\)/);
    expect(b.memory.jobs()).toEqual([expect.objectContaining({ id, placed: expect.objectContaining({ trackName: 'V2' }) })]);

    // The panel reloaded on the same memory: the job's state is asked; it is not placed again.
    b.jobs.stop();
    const again = new MatteJobs({
      host: { call: () => Promise.reject(new Error('no host call expected')) },
      memory: b.memory,
      engine: b.connection,
      changed: () => undefined,
      say: () => undefined,
      plateForgotten: () => undefined,
      fps: () => 25,
    });
    expect(again.jobs.map((j) => j.id)).toEqual([id]);
    again.resume(ep);
    again.resume(ep); // once per panel
    await expect.poll(() => again.jobs[0]!.record?.state, { timeout: 15_000 }).toBe('done');
    expect(again.jobs[0]!.placed?.trackName).toBe('V2');
    again.stop();
  });

  it('refuses before rendering anything: no engine, no usable clip, no plate; a plate the engine forgot is dropped from memory', async () => {
    const b = await bench(short);
    const before = await jobCount();
    const offline = await bench(short, b.memory, DEAD);
    await expect(offline.jobs.apply({ clips: [b.selected], model: '', needsPlate: true, mode: 'cutout' })).rejects.toThrow(ENGINE_NOT_RUNNING);
    await expect(b.jobs.apply({ clips: [], model: '', needsPlate: true, mode: 'cutout' })).rejects.toThrow('Select a clip on the timeline first.');
    const refused = { ...b.selected, refusal: { code: 'nested_sequence', message: 'A nested sequence cannot be matted.' } } as ClipDescription;
    await expect(b.jobs.apply({ clips: [refused], model: '', needsPlate: true, mode: 'cutout' })).rejects.toThrow('A nested sequence cannot be matted.');
    await expect(b.jobs.apply({ clips: [b.selected], model: '', needsPlate: true, mode: 'cutout' })).rejects.toThrow(/^No background for "short.mp4" yet/);
    b.memory.setPlate(short.path, { backgroundId: '0'.repeat(24), label: 'gone.png' });
    await expect(b.jobs.apply({ clips: [b.selected], model: '', needsPlate: true, mode: 'cutout' })).rejects.toThrow(/^The engine refused the matte for "short.mp4": /);
    expect(b.memory.plate(short.path)).toBeUndefined();
    expect(b.forgotten).toEqual([short.path]);
    expect(await jobCount()).toBe(before);
    expect(b.jobs.jobs).toEqual([]);
    expect(b.seq.videoTrackList[1]!.items).toEqual([]);
  });

  it('cancel: a notice and nothing placed; cancelling an ended job is no error; run again starts and follows a new job', async () => {
    const b = await bench(long);
    await withPlate(b, long);
    await b.jobs.apply({ clips: [b.selected], model: '', needsPlate: true, mode: 'cutout' });
    const first = b.jobs.jobs[0]!;
    await expect.poll(() => b.jobs.jobs[0]!.progress?.framesDone ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await b.jobs.cancel(first);
    await expect.poll(() => b.jobs.jobs[0]!.record?.state, { timeout: 30_000 }).toBe('cancelled');
    expect(b.said.at(-1)).toEqual({ level: 'notice', text: 'Cancelled "long.mp4": nothing was imported.' });
    await b.jobs.cancel(first); // already ended (job_not_active): not an error

    await b.jobs.runAgain(b.jobs.jobs[0]!);
    const second = b.jobs.jobs[0]!;
    expect(second.id).not.toBe(first.id);
    expect(b.jobs.jobs.map((j) => j.id)).toEqual([second.id, first.id]);
    expect(b.memory.jobs().map((j) => j.id)).toEqual([second.id, first.id]);
    await expect.poll(() => b.jobs.jobs[0]!.progress?.framesDone ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await b.jobs.cancel(second);
    await expect.poll(async () => (await getJob(ep, second.id)).state, { timeout: 30_000 }).toBe('cancelled');
    b.jobs.stop();
    expect(b.seq.videoTrackList[1]!.items).toEqual([]);
  });
});
