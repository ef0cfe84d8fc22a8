// The clip and live paths through a test engine, as the per-model tests (bgmv2, rvm, fused) take
// them: a clip job to PNG run to the end, and a live session's first matted frame read back from
// its NUT stream by a real ffmpeg. What each model must give stays in its own test.
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'vitest';
import WebSocket from 'ws';
import type { JobRecord, LiveOpenRequest, LiveSessionInfo } from '../../src/shared/api.js';
import { uploadBackground } from '../../src/shared/engine-client.js';
import type { Frame } from '../../src/engine/frame.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import type { TestEngine } from './engine.js';
import { toPng } from './images.js';

/** POST /v1/jobs with `outputs: ['png']`, polled to done: the job and its PNG frames' paths in order. */
export async function runPngJob(t: TestEngine, request: Record<string, unknown>, timeoutMs = 60_000): Promise<{ job: JobRecord; frames: string[] }> {
  const created = await t.api('/v1/jobs', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...request, outputs: ['png'] }) });
  expect(created.status, await created.clone().text()).toBe(201);
  const { id } = (await created.json()) as JobRecord;
  let job: JobRecord | undefined;
  await expect
    .poll(
      async () => {
        job = (await (await t.api(`/v1/jobs/${id}`)).json()) as JobRecord;
        return job.state;
      },
      { timeout: timeoutMs, interval: 100 },
    )
    .toBe('done');
  const folder = job!.outputs.find((o) => o.kind === 'png')!.path;
  const names = (await readdir(folder)).filter((n) => n.endsWith('.png')).sort();
  return { job: job!, frames: names.map((n) => path.join(folder, n)) };
}

/**
 * Opens a live session at the frame's size (30 fps; with `plate`, uploaded as its background),
 * sends the (RGB) frame once, and reads the first matte from the session's stream as RGBA.
 */
export async function liveFirstMatte(
  t: TestEngine,
  open: Omit<LiveOpenRequest, 'type' | 'requestId' | 'width' | 'height' | 'fps' | 'backgroundId'>,
  frame: Frame,
  plate?: Frame,
): Promise<{ info: LiveSessionInfo; rgba: Buffer }> {
  const { width, height } = frame;
  if (frame.channels !== 3) throw new Error('liveFirstMatte sends RGB frames');
  const endpoint = { url: t.url, token: t.token };
  const backgroundId = plate ? (await uploadBackground(endpoint, await toPng(plate))).id : undefined;
  const live = await LiveConnection.connect(endpoint, (url, protocols) => new WebSocket(url, protocols) as unknown as WebSocketLike);
  try {
    const info = await live.openSession({ ...open, ...(backgroundId ? { backgroundId } : {}), width, height, fps: 30 });
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0; i < width * height; i++) rgba.set([...frame.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
    live.sendFrame(info.sessionId, 1, Date.now(), 'rgba', width, height, rgba);
    await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBe(1);
    const { ffmpeg } = await mediaTools();
    const { stdout } = await promisify(execFile)(
      ffmpeg.path,
      ['-hide_banner', '-loglevel', 'error', '-f', 'nut', '-i', info.streamUrl, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'],
      { encoding: 'buffer', maxBuffer: 16 << 20, timeout: 30_000 },
    );
    await live.closeSession(info.sessionId);
    return { info, rgba: stdout };
  } finally {
    live.disconnect();
  }
}
