// The live stream server with real ffmpeg players reading tcp://127.0.0.1:PORT as NUT.
import { execFile } from 'node:child_process';
import net from 'node:net';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { NutStreamServer } from '../../src/engine/live/nut-stream.js';
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
    expect(stream.url).toMatch(/^tcp:\/\/127\.0\.0\.1:\d+$/);

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
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1');
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

  it('refuses frames of the wrong size', async () => {
    const { ffmpeg } = await mediaTools();
    stream = await NutStreamServer.start({ width: W, height: H, fps: 30, ffmpegPath: ffmpeg.path });
    expect(() => stream!.setFrame(new Uint8Array(10))).toThrow(/64x48 RGBA/);
  });
});
