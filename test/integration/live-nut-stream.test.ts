// The live stream server with real ffmpeg players reading http://127.0.0.1:PORT/<secret>.nut as
// NUT; who gets refused (wrong path, non-loopback Host, players over the cap) and that refusals
// start no ffmpeg.
import { execFile } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { LIVE_MAX_PLAYERS, MAX_SOCKETS, NutStreamServer, STREAM_RETRY_AFTER_SECONDS } from '../../src/engine/live/nut-stream.js';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';

const run = promisify(execFile);
const W = 64;
const H = 48;

/** Reads `frames` RGBA frames from the stream with a real ffmpeg. */
async function readFrames(url: string, frames: number): Promise<Buffer> {
  const { ffmpeg } = await mediaTools();
  // prettier-ignore
  const { stdout } = await run(ffmpeg.path, [
    '-hide_banner', '-loglevel', 'error', '-f', 'nut', '-i', url,
    '-frames:v', String(frames), '-f', 'rawvideo', '-pix_fmt', 'rgba', 'pipe:1',
  ], { encoding: 'buffer', maxBuffer: 64 << 20, timeout: 30_000 });
  return stdout;
}

function solid(r: number, g: number, b: number, a: number): Uint8Array {
  const f = new Uint8Array(W * H * 4);
  for (let i = 0; i < f.length; i += 4) f.set([r, g, b, a], i);
  return f;
}

let stream: NutStreamServer | undefined;
afterEach(async () => {
  await stream?.close();
  stream = undefined;
});

describe('NutStreamServer', () => {
  it('serves transparent frames before the first matte, then the latest frame with alpha intact', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    expect(stream.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/[0-9a-f]{48}\.nut$/);

    const before = await readFrames(stream.url, 2);
    expect(before.length).toBe(2 * W * H * 4);
    expect(before.every((v) => v === 0)).toBe(true);

    stream.setFrame(solid(200, 40, 90, 128));
    // The last frame repeats at the stream rate: a player joining later still gets frames.
    const after = await readFrames(stream.url, 3);
    expect(after.length).toBe(3 * W * H * 4);
    const last = after.subarray(2 * W * H * 4);
    expect([...last.subarray(0, 4)]).toEqual([200, 40, 90, 128]);
    expect([...last.subarray(last.length - 4)]).toEqual([200, 40, 90, 128]);
  });

  it('serves several players at once and survives players that hang up mid-stream', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    stream.setFrame(solid(10, 20, 30, 255));
    // A raw socket that reads a little and hangs up abruptly.
    const port = stream.port;
    const secretPath = new URL(stream.url).pathname;
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
      s.write(`GET ${secretPath} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n\r\n`);
      s.once('data', () => {
        s.destroy();
        resolve();
      });
      s.once('error', reject);
    });
    const [a, b] = await Promise.all([readFrames(stream.url, 2), readFrames(stream.url, 2)]);
    expect([...a.subarray(0, 4)]).toEqual([10, 20, 30, 255]);
    expect([...b.subarray(0, 4)]).toEqual([10, 20, 30, 255]);
    // Everyone who left is gone from the player list.
    await expect.poll(() => stream!.clientCount, { timeout: 10_000 }).toBe(0);
  });

  it('refuses wrong paths and foreign Hosts without starting ffmpeg, and caps players per session', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    const base = `http://127.0.0.1:${stream.port}`;
    const secret = new URL(stream.url).pathname;
    // 40 guesses (the report's 40 connections started 29 ffmpeg processes), one after another: the
    // port also caps open sockets at 16 (its own test below), which is not what this checks.
    const guesses: string[] = [];
    for (let i = 0; i < 40; i++) {
      const r = await fetch(`${base}/${i.toString(16).padStart(48, '0')}.nut`);
      guesses.push(`${r.status} ${((await r.json()) as { error: { code: string } }).error.code}`);
    }
    expect(new Set(guesses)).toEqual(new Set(['404 not_found']));
    expect(stream.clientCount).toBe(0);
    for (const path of ['/', secret.slice(0, -1), secret.toUpperCase(), `${secret}/x`]) expect((await fetch(base + path)).status, path).toBe(404);
    const rebound = await new Promise<number>((resolve) =>
      http.get({ host: '127.0.0.1', port: stream!.port, path: secret, headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode ?? 0))),
    );
    expect(rebound).toBe(403);
    expect(stream.clientCount).toBe(0);

    // Players up to the cap are served; the next one gets 503 with Retry-After and no ffmpeg.
    const players = await Promise.all(Array.from({ length: LIVE_MAX_PLAYERS }, () => fetch(stream!.url)));
    expect(players.map((p) => p.status)).toEqual(Array(LIVE_MAX_PLAYERS).fill(200));
    expect(stream.clientCount).toBe(LIVE_MAX_PLAYERS);
    const over = await fetch(stream.url);
    expect(over.status).toBe(503);
    expect(over.headers.get('retry-after')).toBe(String(STREAM_RETRY_AFTER_SECONDS));
    expect(((await over.json()) as { error: { code: string } }).error.code).toBe('too_many_players');
    expect(stream.clientCount).toBe(LIVE_MAX_PLAYERS);
    for (const p of players) await p.body?.cancel();
    await expect.poll(() => stream!.clientCount, { timeout: 10_000 }).toBe(0);
    expect((await readFrames(stream.url, 1)).length).toBe(W * H * 4); // a place is free again
  });

  it('sends a frame at once when a tick is overdue (the thread was busy), and measures that hop', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    const reading = readFrames(stream.url, 60).catch((err: unknown) => err); // awaited below
    await expect.poll(() => stream!.written, { timeout: 20_000 }).toBeGreaterThan(2);
    // Block the thread for 10 ticks, as a model run on it does: no tick can run meanwhile.
    const until = performance.now() + 330;
    while (performance.now() < until);
    const written = stream.written;
    stream.setFrame(solid(1, 2, 3, 4));
    expect(stream.written).toBe(written + 1); // written in setFrame itself, not at the late tick
    expect(stream.muxMs.summary().median).toBeLessThan(5);
    // On time (the ticker restarted just now), a frame waits for its tick. No await in between: a
    // sleep on a loaded machine can outlast a tick and make this frame overdue too.
    stream.setFrame(solid(5, 6, 7, 8));
    expect(stream.written).toBe(written + 1);
    await expect.poll(() => stream!.muxMs.count, { timeout: 5000 }).toBe(2);
    // Its wait (the larger sample) is about one interval, plus whatever a busy machine adds to a timer.
    expect(stream.muxMs.summary().p95).toBeGreaterThan(1000 / 30 / 2);
    expect(stream.muxMs.summary().p95).toBeLessThan(1000);
    const frames = await reading;
    if (!(frames instanceof Buffer)) throw frames;
    expect([...frames.subarray(frames.length - 4)]).toEqual([5, 6, 7, 8]);
  });

  it('answers every connection over the socket cap with 503 at once: a flood of 24 fetches all get an answer', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    const url = new URL(stream.url);
    // MAX_SOCKETS idle sockets that never send a request hold every place (for up to 5 s each).
    const idle = await Promise.all(
      Array.from(
        { length: MAX_SOCKETS },
        () =>
          new Promise<net.Socket>((resolve) => {
            const s = net.connect({ host: '127.0.0.1', port: Number(url.port) }, () => resolve(s));
          }),
      ),
    );
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the server has counted them
      // Each fetch has its own abort deadline well below the test's: unanswered ones fail the test.
      const answers = await Promise.all(
        Array.from({ length: 24 }, async () => {
          const r = await fetch(stream!.url, { signal: AbortSignal.timeout(4000) });
          return `${r.status} ${r.headers.get('retry-after')} ${((await r.json()) as { error: { code: string } }).error.code}`;
        }),
      );
      expect(new Set(answers)).toEqual(new Set([`503 ${STREAM_RETRY_AFTER_SECONDS} too_many_connections`]));
      expect(stream.clientCount).toBe(0); // no ffmpeg started for any of them
    } finally {
      for (const s of idle) s.destroy();
    }
    // The places come back once the idle sockets go.
    await expect.poll(async () => (await readFrames(stream!.url, 1)).length, { timeout: 10_000 }).toBe(W * H * 4);
  });

  it('drops a player that stops reading, freeing its place and its ffmpeg', async () => {
    const { ffmpeg } = await mediaTools();
    // Big frames fill the socket's and ffmpeg's pipes quickly once the client reads nothing.
    stream = await NutStreamServer.start({ width: 640, height: 480, fps: 30, ffmpegPath: ffmpeg.path, playerStallMs: 1000 });
    const url = new URL(stream.url);
    const silent = net.connect({ host: '127.0.0.1', port: Number(url.port) }, () => silent.write(`GET ${url.pathname} HTTP/1.1\r\nHost: 127.0.0.1:${url.port}\r\n\r\n`));
    silent.pause(); // never reads a byte
    try {
      await expect.poll(() => stream!.clientCount, { timeout: 10_000 }).toBe(1);
      await expect.poll(() => stream!.clientCount, { timeout: 30_000 }).toBe(0);
      expect(stream.skipped).toBeGreaterThan(0);
      silent.resume(); // what it gets now ends: the engine hung up on it
      await new Promise<void>((resolve) => silent.on('close', () => resolve()));
      expect((await readFrames(stream.url, 1)).length).toBe(640 * 480 * 4); // a reading player is served
    } finally {
      silent.destroy();
    }
  });

  it('refuses frames of the wrong size', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    expect(() => stream!.setFrame(new Uint8Array(10))).toThrow(/64x48 RGBA/);
  });
});
