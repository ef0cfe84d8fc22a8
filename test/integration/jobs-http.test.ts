// Clip jobs over real HTTP on 127.0.0.1: plates from a media frame, jobs with SSE progress,
// cancel, bad inputs as 4xx JSON while the engine keeps serving, ffmpeg named in health; and a
// real engine process killed with SIGKILL mid-job, restarted, with nothing lost.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile, copyFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackgroundRecord, EngineConfigFile, Health, JobEvent, JobList, JobRecord } from '../../src/shared/api.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';
import { makeClip, readFrameIndex, runCapture, type GeneratedClip } from '../support/clips.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let t: TestEngine;
let dir: string;
let clip: GeneratedClip;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-jobs-http-'));
  clip = await makeClip(dir, 'take1', { rate: '25', frames: 50 });
  t = await startTestEngine({ warmUp: false });
});
afterAll(async () => {
  await t?.stop();
  await rm(dir, { recursive: true, force: true });
});

const json = (body: unknown): RequestInit => ({ method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

/** Reads SSE events until a terminal one (or the stream ends). */
async function readEvents(res: Response): Promise<JobEvent[]> {
  const events: JobEvent[] = [];
  const decoder = new TextDecoder();
  let buf = '';
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    buf += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, end);
      buf = buf.slice(end + 2);
      const name = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (!name || !data) continue;
      const event = JSON.parse(data) as JobEvent;
      expect(event.type).toBe(name);
      events.push(event);
    }
  }
  return events;
}

describe('jobs over HTTP', () => {
  it('health names the ffmpeg in use', async () => {
    const health = (await (await t.api('/v1/health')).json()) as Health;
    expect(health.media && 'ffmpeg' in health.media ? health.media.ffmpeg : undefined).toMatchObject({ source: 'system' });
    expect(health.media && 'ffprobe' in health.media ? health.media.ffprobe.path : '').toMatch(/ffprobe$/);
  });

  it('takes a plate from a media frame, runs a job with SSE progress, lists and fetches it', async () => {
    const bgRes = await t.api('/v1/backgrounds', json({ mediaPath: clip.path, timeSeconds: 0.3 }));
    expect(bgRes.status).toBe(201);
    const bg = (await bgRes.json()) as { id: string; width: number; height: number };
    expect([bg.width, bg.height]).toEqual([320, 180]);
    const record = (await (await t.api(`/v1/backgrounds/${bg.id}`)).json()) as BackgroundRecord;
    // 0.3 s at 25 fps is inside frame 7's interval [0.28, 0.32)
    expect(record.source).toEqual({ kind: 'media', mediaPath: clip.path, timeSeconds: 0.3, frameIndex: 7 });
    const png = Buffer.from(await (await t.api(`/v1/backgrounds/${bg.id}/image`)).arrayBuffer());
    const platePng = path.join(dir, 'plate-from-engine.png');
    await writeFile(platePng, png);
    const rgb = await runCapture('ffmpeg', ['-v', 'error', '-i', platePng, '-f', 'rawvideo', '-pix_fmt', 'rgb24', '-']);
    expect(readFrameIndex(rgb, 320, 3)).toBe(7);

    const outputDir = path.join(dir, 'http-out');
    const created = await t.api('/v1/jobs', json({ mediaPath: clip.path, range: { in: 0.4, out: 1.2 }, background: { id: bg.id }, outputs: ['prores4444', 'png'], outputDir }));
    expect(created.status).toBe(201);
    const job = (await created.json()) as JobRecord;
    expect(job.media).toMatchObject({ firstFrame: 10, frameCount: 20, frameRate: '25/1' });
    const events = await readEvents(await t.api(`/v1/jobs/${job.id}/events`));
    expect(events[0]?.type).toBe('snapshot');
    const last = events.at(-1);
    expect(last?.type).toBe('done');
    const progress = events.filter((e): e is Extract<JobEvent, { type: 'progress' }> => e.type === 'progress');
    expect(progress.length).toBeGreaterThan(0);
    const final = progress.at(-1)!.progress;
    expect(final).toMatchObject({ framesDone: 20, framesTotal: 20, etaSeconds: 0 });
    expect(final.fps).toBeGreaterThan(0);
    const done = (await (await t.api(`/v1/jobs/${job.id}`)).json()) as JobRecord;
    expect(done.state).toBe('done');
    const pngDir = done.outputs.find((o) => o.kind === 'png')!.path;
    expect((await readdir(pngDir)).length).toBe(20);
    const list = (await (await t.api('/v1/jobs')).json()) as JobList;
    expect(list.jobs.map((j) => j.id)).toContain(job.id);
    // events of a finished job: snapshot + done, then the stream ends
    const replay = await readEvents(await t.api(`/v1/jobs/${job.id}/events`));
    expect(replay.map((e) => e.type)).toEqual(['snapshot', 'done']);
  });

  it('DELETE cancels a running job: ffmpeg stopped, no temp files, then 409 on a second cancel', async () => {
    const long = await makeClip(dir, 'long', { rate: '25', frames: 300 });
    const outputDir = path.join(dir, 'cancel-out');
    const job = (await (await t.api('/v1/jobs', json({ mediaPath: long.path, background: { imagePath: long.platePath }, outputs: ['prores4444', 'matte', 'png'], outputDir }))).json()) as JobRecord;
    const deadline = Date.now() + 30_000;
    for (;;) {
      const r = (await (await t.api(`/v1/jobs/${job.id}`)).json()) as JobRecord;
      if (r.progress.framesDone >= 3) break;
      if (Date.now() > deadline || (r.state !== 'running' && r.state !== 'queued')) throw new Error(`job did not progress: ${JSON.stringify(r)}`);
      await new Promise((res) => setTimeout(res, 50));
    }
    const del = await t.api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    expect(del.status).toBe(200);
    expect(((await del.json()) as JobRecord).state).toBe('cancelled');
    expect(await readdir(outputDir)).toEqual([]);
    const again = await t.api(`/v1/jobs/${job.id}`, { method: 'DELETE' });
    expect(again.status).toBe(409);
    expect((await errorOf(again)).code).toBe('job_not_active');
  });

  it('bad inputs are clear 4xx JSON errors and the engine keeps serving', async () => {
    const bg = { imagePath: clip.platePath };
    const notVideo = path.join(dir, 'notes.mov');
    await writeFile(notVideo, 'not a video\n'.repeat(100));
    const audio = path.join(dir, 'voice.m4a');
    await runCapture('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1', '-y', audio]);
    const corrupt = path.join(dir, 'corrupt.mp4');
    await copyFile(clip.path, corrupt);
    await truncate(corrupt, Math.floor((await stat(corrupt)).size / 3));
    const blocker = path.join(dir, 'file-not-folder');
    await writeFile(blocker, 'x');
    const cases: [unknown, number, string][] = [
      [{ mediaPath: path.join(dir, 'missing.mp4'), background: bg }, 404, 'media_not_found'],
      [{ mediaPath: notVideo, background: bg }, 415, 'not_a_video'],
      [{ mediaPath: audio, background: bg }, 422, 'no_video_stream'],
      [{ mediaPath: clip.path, background: bg, range: { in: 1, out: 3 } }, 422, 'range_outside_media'],
      [{ mediaPath: clip.path, background: bg, range: { in: 2, out: 1 } }, 400, 'bad_range'],
      [{ mediaPath: corrupt, background: bg }, 415, 'not_a_video'],
      [{ mediaPath: clip.path, background: bg, outputDir: path.join(blocker, 'out') }, 422, 'output_dir_unwritable'],
      [{ mediaPath: clip.path, background: bg, outputs: ['gif'] }, 400, 'bad_field'],
      [{ background: bg }, 400, 'missing_field'],
      [{ mediaPath: clip.path }, 400, 'plate_required'],
    ];
    for (const [body, status, code] of cases) {
      const res = await t.api('/v1/jobs', json(body));
      const err = await errorOf(res);
      expect([res.status, err.code], JSON.stringify(body)).toEqual([status, code]);
      expect(err.message.length).toBeGreaterThan(10);
    }
    expect((await errorOf(await t.api('/v1/jobs/0123456789abcdef'))).code).toBe('unknown_job');
    expect((await errorOf(await t.api('/v1/backgrounds', json({ mediaPath: clip.path, timeSeconds: 99 })))).code).toBe('range_outside_media');
    expect((await errorOf(await t.api('/v1/backgrounds', json({ mediaPath: audio })))).code).toBe('no_video_stream');
    expect((await errorOf(await t.api('/v1/backgrounds', json({ mediaPath: path.join(dir, 'gone.png') })))).code).toBe('media_not_found');
    // A still image file path works as a plate source too.
    const still = await t.api('/v1/backgrounds', json({ mediaPath: clip.platePath }));
    expect(still.status).toBe(201);
    expect(await still.json()).toMatchObject({ width: 320, height: 180 });
    // A corrupt file that probes fine fails the job (not the request) with a reason.
    const half = await makeClip(dir, 'half', { frames: 40, extraArgs: ['-movflags', '+faststart'] });
    await truncate(half.path, Math.floor((await stat(half.path)).size / 2));
    const job = (await (await t.api('/v1/jobs', json({ mediaPath: half.path, background: { imagePath: half.platePath }, outputDir: path.join(dir, 'half-out') }))).json()) as JobRecord;
    const events = await readEvents(await t.api(`/v1/jobs/${job.id}/events`));
    const failed = events.at(-1);
    expect(failed?.type).toBe('failed');
    expect(failed?.type === 'failed' ? failed.error.code : '').toBe('media_unreadable');
    expect(await readdir(path.join(dir, 'half-out'))).toEqual([]);
    expect((await t.api('/v1/health')).status).toBe(200);
  });
});

describe('kill -9 of the engine process mid-job', () => {
  async function startEngineProcess(root: string): Promise<{ child: ChildProcess; url: string; token: string; stderr: () => string }> {
    const configDir = path.join(root, 'config');
    const file = path.join(configDir, 'engine.json');
    await rm(file, { force: true });
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/engine/main.ts'], {
      cwd: repo,
      env: { ...process.env, CLEANPLATE_PORT: '0', CLEANPLATE_CONFIG_DIR: configDir, CLEANPLATE_DATA_DIR: path.join(root, 'data'), CLEANPLATE_THREADS: '1' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const config = await readFile(file, 'utf8').then(
        (s) => JSON.parse(s) as EngineConfigFile,
        () => undefined,
      );
      if (config && config.pid === child.pid) return { child, url: `http://127.0.0.1:${config.port}`, token: config.token, stderr: () => stderr };
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`engine did not start: ${stderr}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  it('after SIGKILL and restart: the done job and its outputs are intact, the running one is interrupted and re-runs', async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), 'cp-kill9-'));
    const outputDir = path.join(root, 'out');
    await mkdir(outputDir);
    const long = await makeClip(root, 'long', { rate: '30000/1001', frames: 150 });
    let engine = await startEngineProcess(root);
    const api = (route: string, init: RequestInit = {}): Promise<Response> =>
      fetch(engine.url + route, { ...init, headers: { ...(init.headers as Record<string, string>), authorization: `Bearer ${engine.token}` } });
    try {
      const first = (await (
        await api('/v1/jobs', json({ mediaPath: clip.path, range: { in: 0, out: 10, unit: 'frames' }, background: { imagePath: clip.platePath }, outputs: ['prores4444', 'png'], outputDir }))
      ).json()) as JobRecord;
      expect((await readEvents(await api(`/v1/jobs/${first.id}/events`))).at(-1)?.type).toBe('done');
      const finished = (await (await api(`/v1/jobs/${first.id}`)).json()) as JobRecord;
      const movBefore = await readFile(finished.outputs.find((o) => o.kind === 'prores4444')!.path);

      const second = (await (await api('/v1/jobs', json({ mediaPath: long.path, background: { imagePath: long.platePath }, outputs: ['prores4444', 'png'], outputDir }))).json()) as JobRecord;
      const deadline = Date.now() + 60_000;
      for (;;) {
        const r = (await (await api(`/v1/jobs/${second.id}`)).json()) as JobRecord;
        if (r.progress.framesDone >= 5) break;
        if (Date.now() > deadline || !['queued', 'running'].includes(r.state)) throw new Error(`long job did not progress: ${JSON.stringify(r)}`);
        await new Promise((res) => setTimeout(res, 30));
      }
      // Partial outputs exist under temp names while it runs.
      expect((await readdir(outputDir)).some((n) => n.includes('.partial-'))).toBe(true);
      const exited = new Promise((r) => engine.child.once('exit', r));
      engine.child.kill('SIGKILL');
      await exited;

      engine = await startEngineProcess(root);
      const list = ((await (await api('/v1/jobs')).json()) as JobList).jobs;
      const done = list.find((j) => j.id === first.id)!;
      const interrupted = list.find((j) => j.id === second.id)!;
      expect(done.state).toBe('done');
      expect(done.outputs).toEqual(finished.outputs);
      expect((await readFile(done.outputs.find((o) => o.kind === 'prores4444')!.path)).equals(movBefore)).toBe(true);
      expect((await readdir(done.outputs.find((o) => o.kind === 'png')!.path)).length).toBe(10);
      expect(interrupted.state).toBe('interrupted');
      expect(interrupted.outputs).toEqual([]);
      expect(interrupted.error?.message).toMatch(/rerun/);
      // The killed job's temp files were removed at restart (an orphaned encoder may take a moment to exit).
      let names: string[] = [];
      for (let i = 0; i < 50; i++) {
        names = (await readdir(outputDir)).filter((n) => n.includes('.partial-'));
        if (names.length === 0) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(names).toEqual([]);

      const rerun = await api(`/v1/jobs/${second.id}/rerun`, { method: 'POST' });
      expect(rerun.status).toBe(201);
      const again = (await rerun.json()) as JobRecord;
      expect(again.rerunOf).toBe(second.id);
      expect(again.request).toEqual(interrupted.request);
      expect((await readEvents(await api(`/v1/jobs/${again.id}/events`))).at(-1)?.type).toBe('done');
      const rerunDone = (await (await api(`/v1/jobs/${again.id}`)).json()) as JobRecord;
      const pngs = (await readdir(rerunDone.outputs.find((o) => o.kind === 'png')!.path)).sort();
      expect(pngs.length).toBe(150);
      expect([pngs[0], pngs.at(-1)]).toEqual(['frame_000000.png', 'frame_000149.png']);
    } finally {
      if (engine.child.exitCode === null) engine.child.kill('SIGKILL');
      await rm(root, { recursive: true, force: true });
    }
  }, 300_000); // two engine starts and a 150-frame re-run: ~20 s on a quiet 2-core machine, ~150 s at load 20
});
