// Frame-exact decoding with the real ffmpeg, on generated clips whose frame number is in the
// pixels: first/last frame and count for ranges at 25, 30000/1001 and 60 fps; rotation, odd
// sizes and 10-bit sources; and bad media refused with clear errors.
import { mkdtemp, rm, truncate, writeFile, copyFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeFrames } from '../../src/engine/media/decode.js';
import { MediaInputError } from '../../src/engine/media/errors.js';
import { locateMediaTools, type MediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import type { JobRange } from '../../src/shared/api.js';
import { resolveRange } from '../../src/engine/media/frame-range.js';
import { probeMedia } from '../../src/engine/media/probe.js';
import { makeClip, readFrameIndex, runCapture } from '../support/clips.js';

let dir: string;
let tools: MediaTools;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-decode-'));
  tools = await locateMediaTools();
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function decodedIndices(file: string, range: JobRange | undefined): Promise<{ indices: number[]; first: number; count: number }> {
  const info = await probeMedia(tools, file);
  const span = resolveRange(range, info.frameRate, info.frameCount);
  const indices: number[] = [];
  for await (const f of decodeFrames(tools, info, span)) {
    expect(f.width).toBe(info.width);
    expect(f.data.length).toBe(info.width * info.height * 3);
    indices.push(readFrameIndex(f.data, f.width, 3));
  }
  return { indices, ...span };
}

const seq = (first: number, count: number): number[] => Array.from({ length: count }, (_, i) => first + i);

describe('decodeFrames: exact frames of a range', () => {
  for (const [rate, frames] of [
    ['25', 75],
    ['30000/1001', 90],
    ['60', 150],
  ] as const) {
    it(`at ${rate} fps: every range yields exactly its frames, first and last included`, async () => {
      const clip = await makeClip(dir, `r${rate.replace('/', '_')}`, { rate, frames });
      const info = await probeMedia(tools, clip.path);
      expect(info.frameRateText).toBe(rate.includes('/') ? rate : `${rate}/1`);
      expect(info.frameCount).toBe(frames);
      const fps = info.frameRate.num / info.frameRate.den;
      // whole clip
      const all = await decodedIndices(clip.path, undefined);
      expect(all.indices).toEqual(seq(0, frames));
      // a range starting mid-GOP, by seconds: in at the exact start time of frame 17
      const inT = (17 * info.frameRate.den) / info.frameRate.num;
      const r1 = await decodedIndices(clip.path, { in: inT, out: inT + 20 / fps });
      expect(r1.indices).toEqual(seq(17, 20));
      // a time inside a frame selects that frame; out inside a frame includes it
      const r2 = await decodedIndices(clip.path, { in: (31.5 * info.frameRate.den) / info.frameRate.num, out: (40.2 * info.frameRate.den) / info.frameRate.num });
      expect(r2.indices).toEqual(seq(31, 10));
      // the last frames of the media, by frame numbers
      const r3 = await decodedIndices(clip.path, { in: frames - 5, out: frames, unit: 'frames' });
      expect(r3.indices).toEqual(seq(frames - 5, 5));
      // a single frame
      const r4 = await decodedIndices(clip.path, { in: 1, out: 2, unit: 'frames' });
      expect(r4.indices).toEqual([1]);
    });
  }

  it('handles a 10-bit source (decoded to 8-bit RGB) frame-exactly', async () => {
    const clip = await makeClip(dir, 'tenbit', { rate: '24000/1001', frames: 40, codec: 'h264-10bit' });
    const info = await probeMedia(tools, clip.path);
    expect(info.bitDepth).toBe(10);
    const r = await decodedIndices(clip.path, { in: 13, out: 29, unit: 'frames' });
    expect(r.indices).toEqual(seq(13, 16));
  });

  it('handles odd frame sizes (and a short Matroska clip is not mistaken for variable rate)', async () => {
    const short = await makeClip(dir, 'short60', { rate: '60', frames: 20, codec: 'ffv1', container: 'mkv' });
    expect((await probeMedia(tools, short.path)).frameCount).toBe(20);
    const clip = await makeClip(dir, 'odd', { width: 321, height: 181, rate: '25', frames: 30, codec: 'ffv1', container: 'mkv' });
    const info = await probeMedia(tools, clip.path);
    expect([info.width, info.height]).toEqual([321, 181]);
    // mkv has no frame count in its header: the packets are counted
    expect(info.frameCount).toBe(30);
    const r = await decodedIndices(clip.path, { in: 0.4, out: 1.2 });
    expect(r.indices).toEqual(seq(10, 20));
  });

  it('applies rotation metadata: frames come out as displayed (width and height swapped)', async () => {
    const clip = await makeClip(dir, 'plain', { rate: '30', frames: 20 });
    const rotated = path.join(dir, 'rotated.mp4');
    await runCapture('ffmpeg', ['-v', 'error', '-i', clip.path, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', '-y', rotated]);
    const info = await probeMedia(tools, rotated);
    expect(info.rotation).toBe(90);
    expect([info.width, info.height]).toEqual([180, 320]);
    let n = 0;
    for await (const f of decodeFrames(tools, info, { first: 5, count: 3 })) {
      expect([f.width, f.height]).toEqual([180, 320]);
      n++;
    }
    expect(n).toBe(3);
  });
});

describe('bad media gives clear errors', () => {
  const codeOf = async (p: Promise<unknown>): Promise<string> => {
    try {
      await p;
      return 'no error';
    } catch (err) {
      return err instanceof MediaInputError ? err.code : `other: ${String(err)}`;
    }
  };

  it('missing file, not a video, audio-only, a still image is flagged', async () => {
    expect(await codeOf(probeMedia(tools, path.join(dir, 'nope.mp4')))).toBe('media_not_found');
    const text = path.join(dir, 'notes.mp4');
    await writeFile(text, 'this is not a video at all\n'.repeat(50));
    expect(await codeOf(probeMedia(tools, text))).toBe('not_a_video');
    const audio = path.join(dir, 'tone.m4a');
    await runCapture('ffmpeg', ['-v', 'error', '-f', 'lavfi', '-i', 'sine=d=1', '-y', audio]);
    expect(await codeOf(probeMedia(tools, audio))).toBe('no_video_stream');
    const clip = await makeClip(dir, 'forstill', { frames: 2 });
    const still = await probeMedia(tools, clip.platePath);
    expect(still.isStillImage).toBe(true);
  });

  it('refuses variable frame rate media', async () => {
    // Frames at irregular times: 10 fps for 1 s then 30 fps for 1 s; MP4 states an average
    // rate, Matroska does not (the frames are counted).
    for (const ext of ['mp4', 'mkv']) {
      const vfr = path.join(dir, `vfr.${ext}`);
      await runCapture('ffmpeg', [
        '-v',
        'error',
        '-f',
        'lavfi',
        '-i',
        'testsrc2=s=160x90:r=30:d=2',
        '-vf',
        "select='gte(t,1)+not(mod(n,3))'",
        '-vsync',
        'vfr',
        '-c:v',
        'libx264',
        '-preset',
        'ultrafast',
        '-y',
        vfr,
      ]);
      expect(await codeOf(probeMedia(tools, vfr))).toBe('variable_frame_rate');
    }
  });

  it('a truncated clip fails on decode with media_unreadable, not a short result', async () => {
    const clip = await makeClip(dir, 'totrunc', { frames: 60, extraArgs: ['-movflags', '+faststart'] });
    const cut = path.join(dir, 'truncated.mp4');
    await copyFile(clip.path, cut);
    await truncate(cut, Math.floor((await stat(cut)).size * 0.5));
    const info = await probeMedia(tools, cut);
    expect(info.frameCount).toBe(60); // the header still promises 60
    const got: number[] = [];
    const err = await codeOf(
      (async () => {
        for await (const f of decodeFrames(tools, info, { first: 0, count: 60 })) got.push(readFrameIndex(f.data, f.width, 3));
      })(),
    );
    expect(err).toBe('media_unreadable');
    expect(got.length).toBeLessThan(60);
    // a truncated file without faststart has no index at all: refused at probe
    const cut2 = path.join(dir, 'truncated2.mp4');
    const plain = await makeClip(dir, 'totrunc2', { frames: 30 });
    await copyFile(plain.path, cut2);
    await truncate(cut2, Math.floor((await stat(cut2)).size * 0.5));
    expect(await codeOf(probeMedia(tools, cut2))).toBe('not_a_video');
  });
});
