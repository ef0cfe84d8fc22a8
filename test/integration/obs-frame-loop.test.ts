// The OBS frame loop when OBS stops answering (a frozen or vanished OBS leaves screenshot
// requests pending for good): a fake screenshot source stands in for that OBS, since a real one
// cannot be made to freeze on cue; frames go to a real engine over WS /v1/live (plate model).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveConnection, type FrameAck, type WebSocketLike } from '../../src/obs/engine-client.js';
import { uploadBackground } from '../../src/shared/engine-client.js';
import { FrameLoop, type ScreenshotRequest, type ScreenshotSource } from '../../src/obs/frame-loop.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toJpeg, toPng, withSquare } from '../support/images.js';

const W = 160;
const H = 96;
const plate = texturedPlate(W, H, 11);
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

let t: TestEngine;
let backgroundId: string;
let subjectJpeg: string;

beforeAll(async () => {
  t = await startTestEngine();
  backgroundId = (await uploadBackground({ url: t.url, token: t.token }, await toPng(plate))).id;
  const jpeg = await toJpeg(withSquare(plate, { x: 50, y: 20, size: 40, color: [230, 40, 170] }));
  subjectJpeg = `data:image/jpeg;base64,${jpeg.toString('base64')}`;
});
afterAll(async () => {
  await t?.stop();
});

/** A fake screenshot source: the first `hang` requests never settle, later ones answer at once. */
function fakeSource(hang: number): ScreenshotSource & { calls: ScreenshotRequest[] } {
  const calls: ScreenshotRequest[] = [];
  return {
    calls,
    screenshot: (req) => {
      calls.push(req);
      return calls.length <= hang ? new Promise<string>(() => undefined) : Promise.resolve(subjectJpeg);
    },
  };
}

/** 'returned' when stop() resolves within 2 s, else 'hung'. */
function stopWithin(loop: FrameLoop): Promise<'returned' | 'hung'> {
  return Promise.race([loop.stop().then(() => 'returned' as const), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 2000))]);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('OBS frame loop with a fake screenshot source that stops answering', () => {
  it('keeps at most inFlight requests waiting, gives each up after its timeout, and stop() returns at once', async () => {
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, wsFactory);
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H, acks: true });
      const source = fakeSource(Infinity);
      const failures: string[] = [];
      const loop = new FrameLoop(source, live, {
        sourceName: 'Camera',
        sessionId: info.sessionId,
        width: W,
        height: H,
        inFlight: 3,
        maxFps: 100,
        requestTimeoutMs: 800,
        ackTimeoutMs: 50,
        onFailure: (e) => failures.push(e.message),
      });
      loop.start();
      // Many ack timeouts pass: unanswered requests still hold their places (no pile-up on OBS).
      await sleep(400);
      expect(source.calls.length).toBe(3);
      expect(loop.pending).toBe(3);
      expect(source.calls[0]).toEqual({ sourceName: 'Camera', format: 'jpg', width: W, height: H });

      await expect.poll(() => loop.failures, { timeout: 10_000 }).toBeGreaterThanOrEqual(3);
      expect(failures[0]).toMatch(/OBS did not answer a screenshot of "Camera" within 0\.8 s/);
      // A new request only ever takes the place of one given up.
      expect(source.calls.length - loop.failures).toBeLessThanOrEqual(3);

      expect(await stopWithin(loop)).toBe('returned');
      expect(loop.active).toBe(false);
      const calls = source.calls.length;
      await sleep(300);
      expect(source.calls.length).toBe(calls);
      expect(loop.sent).toBe(0);
      expect((await live.stats(info.sessionId)).received).toBe(0);
    } finally {
      live.disconnect();
    }
  });

  it('recovers when the fake source answers again: frames reach the real engine, matted and acked', async () => {
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, wsFactory);
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H, acks: true });
      const source = fakeSource(3);
      const acks: FrameAck[] = [];
      // Numbering continues after an earlier loop's frames (as after an OBS reconnect).
      const loop = new FrameLoop(source, live, { sourceName: 'Camera', sessionId: info.sessionId, width: W, height: H, inFlight: 3, maxFps: 30, requestTimeoutMs: 500, lastSeq: 1000 });
      live.onAck = (a) => {
        acks.push(a);
        loop.ack(a);
      };
      loop.start();
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBeGreaterThan(5);
      expect(loop.failures).toBe(3); // the three requests that never settle, given up once each
      expect(await stopWithin(loop)).toBe('returned');
      // Every frame sent arrived, and was acked as taken or dropped.
      await expect.poll(async () => (await live.stats(info.sessionId)).received, { timeout: 10_000 }).toBe(loop.sent);
      await expect.poll(() => acks.length, { timeout: 10_000 }).toBe(loop.sent);
      expect(acks.every((a) => a.seq > 1000 && (a.status === 'taken' || a.status === 'dropped'))).toBe(true);
      expect(loop.lastSeq).toBeGreaterThan(1000 + loop.sent);
    } finally {
      live.disconnect();
    }
  });

  it('goes on sending when acks never come: a frame stops counting after the ack timeout', async () => {
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, wsFactory);
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H, acks: true });
      // The acks are not passed to the loop: its window of 2 fills and only the timeout frees it.
      const loop = new FrameLoop(fakeSource(0), live, { sourceName: 'Camera', sessionId: info.sessionId, width: W, height: H, inFlight: 2, maxFps: 30, ackTimeoutMs: 150 });
      loop.start();
      await expect.poll(() => loop.sent, { timeout: 20_000 }).toBeGreaterThan(8);
      expect(await stopWithin(loop)).toBe('returned');
      await expect.poll(async () => (await live.stats(info.sessionId)).received, { timeout: 10_000 }).toBe(loop.sent);
    } finally {
      live.disconnect();
    }
  });

  it('paces requests to a model slower than the screenshots: one frame at a time, arriving when the model wants it', async () => {
    const [w, h] = [1280, 720];
    const big = texturedPlate(w, h, 5);
    const plateId = (await uploadBackground({ url: t.url, token: t.token }, await toPng(big))).id;
    // ppm screenshots (raw rgb, nothing to decode): the model is the engine's only stage that takes time.
    const frame = withSquare(big, { x: 400, y: 200, size: 300, color: [230, 40, 170] });
    const ppm = `data:image/x-portable-pixmap;base64,${Buffer.concat([Buffer.from(`P6\n${w} ${h}\n255\n`), frame.data]).toString('base64')}`;
    const live = await LiveConnection.connect({ url: t.url, token: t.token }, wsFactory);
    try {
      const info = await live.openSession({ backgroundId: plateId, width: w, height: h, acks: true });
      // Screenshots answer at once: the model is the slower side, as the default model is on OBS.
      const loop = new FrameLoop({ screenshot: () => Promise.resolve(ppm) }, live, { sourceName: 'Camera', sessionId: info.sessionId, width: w, height: h, inFlight: 3, maxFps: 60, format: 'ppm' });
      live.onAck = (a) => loop.ack(a);
      loop.start();
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 60_000 }).toBeGreaterThan(5);
      const before = await live.stats(info.sessionId);
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 60_000 }).toBeGreaterThan(before.matted + 20);
      const after = await live.stats(info.sessionId);
      await loop.stop();
      expect(loop.paced).toBe(true);
      // Unpaced, three frames in flight would each wait a model run or more (in the socket while
      // inference holds the engine's thread: that shows as transfer), and be dropped in turn.
      expect((after.dropped - before.dropped) / (after.received - before.received)).toBeLessThan(0.15);
      const { transfer, wait, model } = after.hops!;
      expect(transfer!.median! + wait!.median!).toBeLessThan(model!.median!);
    } finally {
      live.disconnect();
    }
  }, 120_000);
});
