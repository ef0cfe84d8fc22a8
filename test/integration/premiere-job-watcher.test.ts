// The panel's job watching (panels/premiere/src/job-watcher.ts) without React or a host, against
// real engines running real clip jobs: events to the end, then place; a stream that breaks, the
// engine found again and asked how the job ended; an engine that came back without the job.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobRecord } from '../../src/shared/api.js';
import { backgroundFromMedia, cancelJob, createJob, getJob, type EngineEndpoint } from '../../src/shared/engine-client.js';
import type { JobMemo } from '../../panels/premiere/src/clip-jobs.js';
import { JobWatcher, type JobView } from '../../panels/premiere/src/job-watcher.js';
import { makeClip, type GeneratedClip } from '../support/clips.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

let dir: string;
let clip: GeneratedClip;
let long: GeneratedClip;
let engine: TestEngine;
let ep: EngineEndpoint;
let plateId: string;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-job-watcher-'));
  clip = await makeClip(dir, 'short', { frames: 12, rate: '25' });
  long = await makeClip(dir, 'long', { frames: 150, rate: '25' });
  engine = await startTestEngine();
  ep = { url: engine.url, token: engine.token };
  plateId = (await backgroundFromMedia(ep, { mediaPath: clip.platePath })).id;
});

afterAll(async () => {
  await engine?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const DEAD: EngineEndpoint = { url: 'http://127.0.0.1:1', token: 'x'.repeat(32) };

interface Recorder {
  readonly watcher: JobWatcher;
  readonly views: Map<string, JobView>;
  readonly said: { level: string; text: string }[];
  readonly placed: JobRecord[];
  locates: number;
}

function recorder(start: EngineEndpoint | undefined, found: () => EngineEndpoint | undefined): Recorder {
  let current = start;
  const r: Recorder = {
    views: new Map(),
    said: [],
    placed: [],
    locates: 0,
    watcher: new JobWatcher({
      current: () => current,
      locate: async () => {
        r.locates++;
        current = found();
        return current;
      },
      update: (id, change) => r.views.set(id, { ...(r.views.get(id) as JobView), ...change }),
      place: async (_job, record) => void r.placed.push(record),
      say: (level, text) => void r.said.push({ level, text }),
      retryMs: 50,
    }),
  };
  return r;
}

async function startJob(media: GeneratedClip): Promise<JobMemo> {
  const record = await createJob(ep, { mediaPath: media.path, background: { id: plateId }, outputs: ['matte'] });
  return { id: record.id, clipName: path.basename(media.path), clip: { sequenceId: 's', nodeId: 'n', trackIndex: 0, mediaPath: media.path, inTicks: '0', outTicks: '1' }, mode: 'trackMatte' };
}

describe('JobWatcher (no React) against real engines', () => {
  it('follows a job to done: progress shown, then placed once with the done record', async () => {
    const r = recorder(ep, () => ep);
    const job = await startJob(clip);
    const first = r.watcher.watch(job);
    const again = r.watcher.watch(job); // the panel asking twice is one watch
    expect(r.watcher.isWatching(job.id)).toBe(true);
    await Promise.all([first, again]);
    expect(r.placed).toHaveLength(1);
    expect(r.placed[0]!.state).toBe('done');
    expect(r.placed[0]!.outputs.map((o) => o.kind)).toEqual(['matte']);
    expect(r.views.get(job.id)!.record!.state).toBe('done');
    expect(r.views.get(job.id)!.progress!.framesDone).toBe(12);
    expect(r.said.filter((s) => s.level === 'error')).toEqual([]);
    expect(r.watcher.isWatching(job.id)).toBe(false);
  });

  it('engine unreachable, then found again (new address): asks it how the job ended and places it', async () => {
    const job = await startJob(clip);
    let tries = 0;
    // Two looks find nothing (the engine is "restarting"), the third finds it.
    const r = recorder(DEAD, () => (++tries >= 3 ? ep : undefined));
    await r.watcher.watch(job);
    expect(r.said[0]).toEqual({ level: 'error', text: `Lost contact with the engine while rendering "short.mp4". Waiting for it to come back...` });
    expect(r.said.some((s) => s.level === 'clear-error')).toBe(true);
    expect(r.locates).toBeGreaterThanOrEqual(3);
    expect(r.placed).toHaveLength(1);
    expect(r.placed[0]!.id).toBe(job.id);
    expect(r.views.get(job.id)!.lostContact).toBe(false);
  });

  it('the engine that came back has another data folder: says so, places nothing', async () => {
    const other = await startTestEngine({ warmUp: false });
    try {
      const job = await startJob(clip);
      const r = recorder(DEAD, () => ({ url: other.url, token: other.token }));
      await r.watcher.watch(job);
      expect(r.said.at(-1)!.text).toMatch(/does not know the job for "short.mp4" \(another data folder\?\)\. Nothing was imported\./);
      expect(r.placed).toEqual([]);
    } finally {
      await other.stop();
    }
  });

  it('after a panel reload: remembered jobs get their state; the one still running is followed to the end and placed', async () => {
    const finishedJob = await startJob(clip);
    const first = recorder(ep, () => ep);
    await first.watcher.watch(finishedJob);
    const running = await startJob(long);
    const before = recorder(ep, () => ep);
    void before.watcher.watch(running);
    await expect.poll(() => before.views.get(running.id)?.progress?.framesDone ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    before.watcher.stop(); // the panel is reloaded
    const after = recorder(ep, () => ep);
    after.watcher.resume(ep, [running, finishedJob]);
    await expect.poll(() => after.views.get(finishedJob.id)?.record?.state).toBe('done');
    await expect.poll(() => after.placed.map((r) => r.id), { timeout: 60_000 }).toEqual([running.id]);
    expect(after.placed[0]!.state).toBe('done');
    expect(before.placed).toEqual([]);
  });

  it('cancelled on the engine: a notice, nothing placed; stop() ends a watch without reporting', async () => {
    const r = recorder(ep, () => ep);
    const job = await startJob(long);
    const watching = r.watcher.watch(job);
    await expect.poll(() => r.views.get(job.id)?.progress?.framesDone ?? 0, { timeout: 30_000 }).toBeGreaterThan(0);
    await cancelJob(ep, job.id);
    await watching;
    expect(r.said.at(-1)).toEqual({ level: 'notice', text: 'Cancelled "long.mp4": nothing was imported.' });
    expect(r.placed).toEqual([]);

    const s = recorder(ep, () => ep);
    const next = await startJob(long);
    const stopped = s.watcher.watch(next);
    await expect.poll(() => s.views.get(next.id)?.record?.state, { timeout: 30_000 }).toBe('running');
    s.watcher.stop();
    await stopped;
    const count = s.views.size + s.said.length;
    await cancelJob(ep, next.id);
    await expect.poll(async () => (await getJob(ep, next.id)).state).toBe('cancelled');
    expect(s.views.size + s.said.length).toBe(count);
    expect(s.placed).toEqual([]);
  });
});
