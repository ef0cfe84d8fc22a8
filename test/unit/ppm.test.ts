// OBS's ppm screenshots as raw rgb (src/obs/ppm.ts): a PPM written by a real ffmpeg reads back as
// the same pixels ffmpeg gives as rawvideo rgb24; comments in the header are skipped; files that
// are not 8-bit binary PPM of a size that matches their data are refused with a reason.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { mediaTools } from '../../src/engine/media/ffmpeg-locate.js';
import { ppmPixels } from '../../src/obs/ppm.js';

const W = 38;
const H = 22;

async function ffmpegImage(format: 'ppm' | 'rawvideo'): Promise<Buffer> {
  const { ffmpeg } = await mediaTools();
  const args = ['-hide_banner', '-loglevel', 'error', '-f', 'lavfi', '-i', `testsrc2=s=${W}x${H}:d=1`, '-frames:v', '1'];
  const out = format === 'ppm' ? ['-c:v', 'ppm', '-f', 'image2pipe', 'pipe:1'] : ['-pix_fmt', 'rgb24', '-f', 'rawvideo', 'pipe:1'];
  const { stdout } = await promisify(execFile)(ffmpeg.path, [...args, ...out], { encoding: 'buffer', timeout: 30_000 });
  return stdout;
}

describe('ppmPixels', () => {
  it("reads a real ffmpeg PPM as the same pixels as ffmpeg's rgb24, without copying them", async () => {
    const [ppm, raw] = await Promise.all([ffmpegImage('ppm'), ffmpegImage('rawvideo')]);
    const image = ppmPixels(ppm);
    expect(image).toMatchObject({ width: W, height: H });
    expect(Buffer.from(image.pixels).equals(raw)).toBe(true);
    expect(image.pixels.buffer).toBe(ppm.buffer);
  });

  it('skips header comments', () => {
    const pixels = Buffer.from([1, 2, 3, 4, 5, 6]);
    const image = ppmPixels(Buffer.concat([Buffer.from('P6\n# made by a test\n2 1\n255\n'), pixels]));
    expect(image).toMatchObject({ width: 2, height: 1 });
    expect([...image.pixels]).toEqual([...pixels]);
  });

  it('refuses what is not an 8-bit binary PPM of its stated size, saying why', () => {
    const rgb = Buffer.alloc(2 * 2 * 3);
    expect(() => ppmPixels(Buffer.concat([Buffer.from('P3\n2 2\n255\n'), rgb]))).toThrow(/not a binary PPM/);
    expect(() => ppmPixels(Buffer.concat([Buffer.from('P6\n2 2\n65535\n'), rgb]))).toThrow(/maxval 65535/);
    expect(() => ppmPixels(Buffer.concat([Buffer.from('P6\n2 3\n255\n'), rgb]))).toThrow(/2x3 needs 18 pixel bytes, has 12/);
    expect(() => ppmPixels(Buffer.from('P6\n2 x\n255\n'))).toThrow(/header is malformed/);
    expect(() => ppmPixels(Buffer.from('P6\n2'))).toThrow(/header is malformed/);
  });
});
