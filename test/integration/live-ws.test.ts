// WS /v1/live against a real engine on 127.0.0.1: frames in (png, jpeg, rgba), matted by the
// real `plate` model, read back from the session's stream by a real ffmpeg; backpressure;
// malformed and hostile messages; auth.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX, LIVE_WATCH_PROTOCOL_PREFIX, type LiveServerMessage } from '../../src/shared/api.js';
import { encodeLiveFrame } from '../../src/shared/live-frame.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { LIVE_MAX_MESSAGE_BYTES } from '../../src/engine/http/live-ws.js';
import { LiveConnection, type WebSocketLike } from '../../src/obs/engine-client.js';
import { EngineError, uploadBackground } from '../../src/shared/engine-client.js';
import { LIVE_MAX_SESSIONS, LIVE_RETRY_AFTER_MS } from '../../src/engine/services/live.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';
import { meanIn, texturedPlate, toJpeg, toPng, withSquare } from '../support/images.js';

const W = 160;
const H = 96;
const plate = texturedPlate(W, H, 7);
const SQUARE = { x: 50, y: 20, size: 48, color: [230, 40, 170] as const };
const subjectFrame = withSquare(plate, SQUARE);
const inside = { x: SQUARE.x + 10, y: SQUARE.y + 10, w: SQUARE.size - 20, h: SQUARE.size - 20 };
const outside = { x: 110, y: 10, w: 40, h: 70 };

let t: TestEngine;
let backgroundId: string;
const wsFactory = (url: string, protocols: string[]): WebSocketLike => new WebSocket(url, protocols) as unknown as WebSocketLike;

beforeAll(async () => {
  t = await startTestEngine();
  backgroundId = (await uploadBackground({ url: t.url, token: t.token }, await toPng(plate))).id;
});
afterAll(async () => {
  await t?.stop();
});

function connect(): Promise<LiveConnection> {
  return LiveConnection.connect({ url: t.url, token: t.token }, wsFactory);
}

/** The newest frame of a stream, read by a real ffmpeg, as RGBA. */
async function streamFrame(url: string, w = W, h = H): Promise<{ data: Buffer; width: number; channels: number }> {
  const { ffmpeg } = await mediaTools();
  const { stdout } = await promisify(execFile)(ffmpeg.path, ['-hide_banner', '-loglevel', 'error', '-f', 'nut', '-i', url, '-frames:v', '1', '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1'], {
    encoding: 'buffer',
    maxBuffer: 64 << 20,
    timeout: 30_000,
  });
  expect(stdout.length).toBe(w * h * 4);
  return { data: stdout, width: w, channels: 4 };
}

/** A raw `ws` connection, for messages the typed client would never send (with the token, or only a session's watch key). */
async function rawSocket(watchKey?: string): Promise<{ ws: WebSocket; messages: LiveServerMessage[]; closed: Promise<number> }> {
  const base = `${t.url.replace('http', 'ws')}/v1/live`;
  const ws = watchKey ? new WebSocket(base, [LIVE_PROTOCOL, LIVE_WATCH_PROTOCOL_PREFIX + watchKey]) : new WebSocket(`${base}?token=${t.token}`);
  const messages: LiveServerMessage[] = [];
  ws.on('message', (d, isBinary) => {
    if (!isBinary) messages.push(JSON.parse(d.toString()) as LiveServerMessage);
  });
  const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  return { ws, messages, closed };
}

describe('WS /v1/live', () => {
  it('mattes png, jpeg, rgba and rgb frames and serves them as an RGBA stream with alpha', async () => {
    const live = await connect();
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H, fps: 30 });
      expect(info.streamUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}\.nut$/);
      expect(info.model).toBe('plate');
      const rgba = new Uint8Array(W * H * 4);
      for (let i = 0; i < W * H; i++) rgba.set([...subjectFrame.data.subarray(i * 3, i * 3 + 3), 255], i * 4);
      const payloads = [
        ['png', await toPng(subjectFrame)],
        ['jpeg', await toJpeg(subjectFrame)],
        ['rgba', rgba],
        ['rgb', subjectFrame.data],
      ] as const;
      let seq = 0;
      for (const [format, payload] of payloads) {
        const before = (await live.stats(info.sessionId)).matted;
        live.sendFrame(info.sessionId, ++seq, Date.now(), format, W, H, payload);
        await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBeGreaterThan(before);
        const frame = await streamFrame(info.streamUrl);
        expect(meanIn(frame, inside, 3), `${format}: alpha over the subject`).toBeGreaterThan(240);
        expect(meanIn(frame, outside, 3), `${format}: alpha over the background`).toBeLessThan(15);
        // Straight alpha: the subject keeps its own colour.
        expect(Math.abs(meanIn(frame, inside, 0) - SQUARE.color[0])).toBeLessThan(20);
      }
      const stats = await live.stats(info.sessionId);
      expect(stats).toMatchObject({ received: 4, matted: 4, dropped: 0, rejected: 0 });
      expect(stats.latencyMs.median).toBeGreaterThan(0);
      expect(stats.engineMs.p95).toBeGreaterThan(0);
      // Per hop: the engine's own, and mux since ffmpeg players read the stream; the frames
      // carried no captureMs, so the client's hops are absent rather than made up.
      expect(Object.keys(stats.hops ?? {})).toEqual(['wait', 'decode', 'align', 'model', 'mux']);
      expect(stats.hops!.model!.median).toBeGreaterThan(0);
      expect(stats.hops!.model!.p95).toBeGreaterThanOrEqual(stats.hops!.model!.median!);
      await live.closeSession(info.sessionId);
      await expect(live.stats(info.sessionId)).rejects.toThrow(/no open session/);
    } finally {
      live.disconnect();
    }
  });

  it("reports the client's capture and transfer hops from the frame header's captureMs", async () => {
    const live = await connect();
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H });
      // Requested 500 ms ago, sent after a 480 ms capture: 20 ms (and the real send) in transfer.
      live.sendFrame(info.sessionId, 1, Date.now() - 500, 'rgb', W, H, subjectFrame.data, 480);
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBe(1);
      const { hops, latencyMs } = await live.stats(info.sessionId);
      expect(hops?.capture).toEqual({ median: 480, p95: 480 });
      expect(hops!.transfer!.median).toBeGreaterThanOrEqual(19);
      expect(hops!.transfer!.median).toBeLessThan(500);
      expect(latencyMs.median).toBeGreaterThanOrEqual(500);
    } finally {
      live.disconnect();
    }
  });

  it('keeps only the newest frame when frames arrive faster than the model: drops, never queues', async () => {
    const live = await connect();
    try {
      const acks: { seq: number; status: string; waitedMs?: number; readyInMs?: number }[] = [];
      live.onAck = (a) => acks.push(a);
      const info = await live.openSession({ backgroundId, width: W, height: H, acks: true });
      const png = await toPng(subjectFrame);
      for (let seq = 1; seq <= 40; seq++) live.sendFrame(info.sessionId, seq, Date.now(), 'png', W, H, png);
      await expect
        .poll(
          async () => {
            const s = await live.stats(info.sessionId);
            return s.matted + s.dropped;
          },
          { timeout: 60_000 },
        )
        .toBe(40);
      const s = await live.stats(info.sessionId);
      expect(s.received).toBe(40);
      expect(s.dropped).toBeGreaterThan(0);
      expect(s.matted).toBeLessThan(40);
      expect(s.dropRate).toBeCloseTo(s.dropped / 40, 2);
      // Every frame is acked once, as what became of it: the flow control clients pace by.
      await expect.poll(() => acks.length, { timeout: 10_000 }).toBe(40);
      expect(new Set(acks.map((a) => a.seq)).size).toBe(40);
      expect(acks.filter((a) => a.status === 'dropped').length).toBe(s.dropped);
      expect(acks.filter((a) => a.status === 'taken').length).toBe(s.matted);
      expect(acks.find((a) => a.seq === 1)).toMatchObject({ status: 'taken' });
      const taken = acks.filter((a) => a.status === 'taken');
      expect(taken.every((a) => typeof a.waitedMs === 'number')).toBe(true);
      // Once the model has a time, each taken ack says when it will want the next frame (pacing).
      expect(taken[0]!.readyInMs).toBeUndefined();
      expect(taken.slice(1).every((a) => typeof a.readyInMs === 'number' && a.readyInMs >= 0)).toBe(true);
    } finally {
      live.disconnect();
    }
  });

  it('answers malformed messages with clear errors and keeps serving the session', async () => {
    const { ws, messages } = await rawSocket();
    const next = async (): Promise<LiveServerMessage> => {
      await expect.poll(() => messages.length, { timeout: 30_000 }).toBeGreaterThan(0);
      return messages.shift()!;
    };
    ws.send('this is not json');
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_message' });
    ws.send(JSON.stringify({ type: 'dance' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_message', message: expect.stringContaining('dance') });
    ws.send(JSON.stringify({ type: 'open', backgroundId, width: 10_000, height: H, requestId: 'w' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_message', requestId: 'w', message: expect.stringContaining('width') });
    ws.send(JSON.stringify({ type: 'open', backgroundId: '0123456789abcdef01234567', width: W, height: H, requestId: 'x' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'unknown_background', requestId: 'x' });
    // The default (plate) model needs a plate: an open without one names what is missing.
    ws.send(JSON.stringify({ type: 'open', width: W, height: H, requestId: 'p' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'plate_required', requestId: 'p', message: expect.stringContaining('backgroundId') });
    ws.send(JSON.stringify({ type: 'open', backgroundId, model: 'nope', width: W, height: H }));
    expect(await next()).toMatchObject({ type: 'error', code: 'unknown_model' });
    ws.send(JSON.stringify({ type: 'stats', sessionId: 999 }));
    expect(await next()).toMatchObject({ type: 'error', code: 'unknown_session' });
    ws.send(JSON.stringify({ type: 'close', sessionId: 'first' }));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_message', message: expect.stringContaining('"sessionId" must be the id of a live session') });

    ws.send(JSON.stringify({ type: 'open', backgroundId, width: W, height: H }));
    const opened = await next();
    if (opened.type !== 'opened') throw new Error(`expected opened, got ${JSON.stringify(opened)}`);
    const id = opened.sessionId;
    const png = await toPng(subjectFrame);

    ws.send(Buffer.from('garbage bytes that are no frame at all, but longer than a header'));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_frame', message: expect.stringContaining('magic') });
    ws.send(Buffer.from([1, 2, 3]));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_frame', message: expect.stringContaining('shorter') });
    ws.send(encodeLiveFrame({ sessionId: 4242, seq: 1, timestamp: Date.now(), format: 'png', width: W, height: H }, png));
    expect(await next()).toMatchObject({ type: 'error', code: 'unknown_session', seq: 1 });
    ws.send(encodeLiveFrame({ sessionId: id, seq: 2, timestamp: Date.now(), format: 'png', width: W * 2, height: H }, png));
    expect(await next()).toMatchObject({ type: 'error', code: 'frame_size_mismatch', sessionId: id, seq: 2 });
    ws.send(encodeLiveFrame({ sessionId: id, seq: 3, timestamp: Date.now(), format: 'rgba', width: W, height: H }, new Uint8Array(100)));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_frame', message: expect.stringContaining('payload bytes') });
    ws.send(encodeLiveFrame({ sessionId: id, seq: 4, timestamp: Date.now(), format: 'jpeg', width: W, height: H }, png.subarray(0, 200)));
    expect(await next()).toMatchObject({ type: 'error', code: 'bad_frame', sessionId: id, seq: 4 });
    // A PNG of another size, declared with the session's size: caught after decoding.
    ws.send(encodeLiveFrame({ sessionId: id, seq: 5, timestamp: Date.now(), format: 'png', width: W, height: H }, await toPng(texturedPlate(64, 64))));
    expect(await next()).toMatchObject({ type: 'error', code: 'frame_size_mismatch', seq: 5 });

    // The session still works.
    ws.send(encodeLiveFrame({ sessionId: id, seq: 6, timestamp: Date.now(), format: 'png', width: W, height: H }, png));
    ws.send(JSON.stringify({ type: 'stats', sessionId: id }));
    await expect
      .poll(
        async () => {
          ws.send(JSON.stringify({ type: 'stats', sessionId: id }));
          const m = await next();
          return m.type === 'stats' ? m.matted : -1;
        },
        { timeout: 30_000 },
      )
      .toBe(1);
    ws.close();
  });

  it('a huge frame closes only the connection that sent it; other sessions keep serving', async () => {
    const live = await connect();
    const hostile = await rawSocket();
    try {
      const info = await live.openSession({ backgroundId, width: W, height: H });
      hostile.ws.send(Buffer.alloc(LIVE_MAX_MESSAGE_BYTES + 1));
      expect(await hostile.closed).toBe(1009); // "message too big"
      const png = await toPng(subjectFrame);
      live.sendFrame(info.sessionId, 1, Date.now(), 'png', W, H, png);
      await expect.poll(async () => (await live.stats(info.sessionId)).matted, { timeout: 30_000 }).toBe(1);
    } finally {
      live.disconnect();
    }
  });

  it("ends a connection's sessions and their streams when it disconnects", async () => {
    const live = await connect();
    const info = await live.openSession({ backgroundId, width: W, height: H });
    const port = Number(new URL(info.streamUrl).port);
    live.disconnect();
    const net = await import('node:net');
    await expect
      .poll(
        () =>
          new Promise<boolean>((resolve) => {
            const s = net.connect(port, '127.0.0.1');
            s.once('connect', () => (s.destroy(), resolve(true)));
            s.once('error', () => resolve(false));
          }),
        { timeout: 15_000 },
      )
      .toBe(false);
  });

  it('refuses connections without the token or from a non-loopback Host', async () => {
    const refused = (url: string, options: WebSocket.ClientOptions = {}, protocols?: string[]): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(url, protocols, options);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => resolve(101));
        ws.on('error', () => undefined);
      });
    const base = `${t.url.replace('http', 'ws')}/v1/live`;
    expect(await refused(base)).toBe(401);
    expect(await refused(`${base}?token=wrong-token-wrong-token`)).toBe(401);
    expect(await refused(`${base}?token=${t.token}`, { headers: { host: 'evil.example:80' } })).toBe(403);
    expect(await refused(`${t.url.replace('http', 'ws')}/v1/other?token=${t.token}`)).toBe(404);
    expect(await refused(base, {}, [LIVE_PROTOCOL, LIVE_TOKEN_PROTOCOL_PREFIX + t.token])).toBe(101);
    await expect(LiveConnection.connect({ url: t.url, token: 'wrong-token-wrong-token' }, wsFactory)).rejects.toBeInstanceOf(EngineError);
  });

  it("a session's watch key lets a connection watch that session and do nothing else; it dies with the session", async () => {
    const live = await connect();
    const other = await live.openSession({ backgroundId, width: W, height: H });
    const info = await live.openSession({ backgroundId, width: W, height: H });
    expect(info.watchKey).toMatch(/^[0-9a-f]{64}$/);
    expect(info.watchKey).not.toBe(other.watchKey);
    const watcher = await rawSocket(info.watchKey);
    const next = async (): Promise<LiveServerMessage> => {
      const seen = watcher.messages.length;
      await expect.poll(() => watcher.messages.length, { timeout: 10_000 }).toBeGreaterThan(seen);
      return watcher.messages.at(-1)!;
    };
    try {
      watcher.ws.send(JSON.stringify({ type: 'watch', sessionId: info.sessionId }));
      expect(await next()).toMatchObject({ type: 'watching', sessionId: info.sessionId });
      for (const msg of [
        { type: 'watch', sessionId: other.sessionId },
        { type: 'open', width: W, height: H, backgroundId },
        { type: 'stats', sessionId: info.sessionId },
        { type: 'close', sessionId: info.sessionId },
      ]) {
        watcher.ws.send(JSON.stringify(msg));
        expect(await next(), msg.type).toMatchObject({ type: 'error', code: 'watch_only' });
      }
      watcher.ws.send(encodeLiveFrame({ sessionId: info.sessionId, seq: 1, timestamp: 0, format: 'png', width: W, height: H }, await toPng(subjectFrame)));
      expect(await next()).toMatchObject({ type: 'error', code: 'watch_only' });
      // The session still runs: the watcher could not close it.
      expect((await live.stats(info.sessionId)).sessionId).toBe(info.sessionId);
    } finally {
      watcher.ws.close();
    }
    const status = (key: string): Promise<number> =>
      new Promise((resolve) => {
        const ws = new WebSocket(`${t.url.replace('http', 'ws')}/v1/live`, [LIVE_PROTOCOL, LIVE_WATCH_PROTOCOL_PREFIX + key]);
        ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        ws.on('open', () => (ws.close(), resolve(101)));
        ws.on('error', () => undefined);
      });
    expect(await status('0'.repeat(64))).toBe(401);
    expect(await status(t.token)).toBe(401); // the engine token is not a watch key
    await live.closeSession(info.sessionId);
    expect(await status(info.watchKey)).toBe(401);
    expect(await status(other.watchKey)).toBe(101);
    live.disconnect();
  });

  it('admits at most LIVE_MAX_SESSIONS sessions: one more is refused with too_many_sessions, and admitted again once one closes', async () => {
    const live = await connect();
    try {
      const opened = [];
      for (let i = 0; i < LIVE_MAX_SESSIONS; i++) opened.push(await live.openSession({ backgroundId, width: W, height: H }));
      await expect(live.openSession({ backgroundId, width: W, height: H })).rejects.toMatchObject({ code: 'too_many_sessions', retryAfterMs: LIVE_RETRY_AFTER_MS });
      await live.closeSession(opened[0]!.sessionId);
      expect((await live.openSession({ backgroundId, width: W, height: H })).sessionId).toBeGreaterThan(opened.at(-1)!.sessionId);
    } finally {
      live.disconnect();
    }
  });
});
