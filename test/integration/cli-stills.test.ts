// `cleanplate matte` for stills, run as a real process (the CLI entry under tsx) with the real
// plate model: folders paired by name, outputs and their content, no-clobber names, progress on
// stderr, and bad command lines and bad images -> clear messages and non-zero exits.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bmp, corruptPng, decodeRaw, meanIn, pngClaimingSize, texturedPlate, toPng, truncate, withSquare, type Square } from '../support/images.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const W = 128;
const H = 80;

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, env: { ...process.env, CLEANPLATE_THREADS: '1' }, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }),
    );
  });
}

const squareFor = (i: number): Square => ({ x: 10 + 12 * i, y: 16, size: 36, color: [245, 245, 245] });
const inside = (sq: Square) => ({ x: sq.x + 6, y: sq.y + 6, w: sq.size - 12, h: sq.size - 12 });
const OUTSIDE = { x: 100, y: 50, w: 24, h: 26 };

let root: string;
beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-cli-'));
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A folder of frames shot1..n and a folder of their plates (each its own scene), same names. */
async function shots(name: string, n: number): Promise<{ frames: string; plates: string }> {
  const frames = path.join(root, name, 'frames');
  const plates = path.join(root, name, 'plates');
  await mkdir(frames, { recursive: true });
  await mkdir(plates, { recursive: true });
  for (let i = 1; i <= n; i++) {
    const plate = texturedPlate(W, H, i);
    await writeFile(path.join(plates, `shot${i}.png`), await toPng(plate));
    await writeFile(path.join(frames, `shot${i}.png`), await toPng(withSquare(plate, squareFor(i))));
  }
  return { frames, plates };
}

describe('cleanplate matte (stills)', () => {
  it('mattes a folder against a folder of plates paired by name, with a progress bar on stderr', async () => {
    const { frames, plates } = await shots('folder', 3);
    const out = path.join(root, 'folder', 'out');
    const run = await cli('matte', frames, '--plate', plates, '--output-dir', out, '--outputs', 'alpha,foreground,composite', '--composite-color', '#0000ff');
    expect(run.code, run.stderr).toBe(0);
    const names = (await readdir(out)).sort();
    expect(names).toEqual(['alpha', 'composite', 'foreground'].flatMap((k) => [1, 2, 3].map((i) => `shot${i}.${k}.png`)).sort());
    // stdout lists exactly the files written; stderr has the bar's final state and a summary.
    expect(run.stdout.trim().split('\n').sort()).toEqual(names.map((n) => path.join(out, n)).sort());
    expect(run.stderr).toMatch(/\[#{24}\] 3\/3 100%/);
    // No --model: the best model present (fused where models/rvm.onnx is built, else plate), named with its reason.
    const chosen = /default model (plate|fused): the best model present \(/.exec(run.stderr)?.[1];
    expect(chosen, run.stderr).toBeDefined();
    expect(run.stderr).toMatch(new RegExp(`matted 3 of 3 images with ${chosen} on \\w+`));

    for (const i of [1, 2, 3]) {
      const sq = squareFor(i);
      const alpha = await decodeRaw(await readFile(path.join(out, `shot${i}.alpha.png`)));
      expect([alpha.width, alpha.height, alpha.channels]).toEqual([W, H, 1]);
      expect(meanIn(alpha, inside(sq))).toBeGreaterThan(240);
      expect(meanIn(alpha, OUTSIDE)).toBeLessThan(10);
      const fg = await decodeRaw(await readFile(path.join(out, `shot${i}.foreground.png`)));
      expect(fg.channels).toBe(4);
      expect(meanIn(fg, OUTSIDE, 3)).toBeLessThan(10);
      const comp = await decodeRaw(await readFile(path.join(out, `shot${i}.composite.png`)));
      expect(meanIn(comp, OUTSIDE, 2)).toBeGreaterThan(240);
      expect(meanIn(comp, OUTSIDE, 1)).toBeLessThan(12);
      expect(meanIn(comp, inside(sq), 1)).toBeGreaterThan(235);
    }
  });

  it('mattes one image against one plate into "CleanPlate Mattes" beside it, never replacing existing files', async () => {
    const dir = path.join(root, 'single');
    await mkdir(dir, { recursive: true });
    const plate = texturedPlate(W, H, 9);
    await writeFile(path.join(dir, 'take.jpg'), await toPng(withSquare(plate, squareFor(2)))); // PNG bytes, .jpg name: content decides
    await writeFile(path.join(dir, 'plate.png'), await toPng(plate));
    const out = path.join(dir, 'CleanPlate Mattes');
    await mkdir(out);
    await writeFile(path.join(out, 'take.alpha.png'), 'the user made this');

    const first = await cli('matte', path.join(dir, 'take.jpg'), '-p', path.join(dir, 'plate.png'));
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout.trim()).toBe(path.join(out, 'take.alpha (2).png'));
    expect(await readFile(path.join(out, 'take.alpha.png'), 'utf8')).toBe('the user made this');
    const alpha = await decodeRaw(await readFile(path.join(out, 'take.alpha (2).png')));
    expect(meanIn(alpha, inside(squareFor(2)))).toBeGreaterThan(240);
    expect(first.stderr).not.toMatch(/\[#/); // no progress bar for a single image

    const second = await cli('matte', path.join(dir, 'take.jpg'), '-p', path.join(dir, 'plate.png'));
    expect(second.stdout.trim()).toBe(path.join(out, 'take.alpha (3).png'));

    const replaced = await cli('matte', path.join(dir, 'take.jpg'), '-p', path.join(dir, 'plate.png'), '--overwrite');
    expect(replaced.code).toBe(0);
    expect(replaced.stdout.trim()).toBe(path.join(out, 'take.alpha.png'));
    expect((await decodeRaw(await readFile(path.join(out, 'take.alpha.png')))).width).toBe(W);
    // No temp files left behind.
    expect((await readdir(out)).filter((n) => n.startsWith('.'))).toEqual([]);
  });

  it('composites over an image (--composite-over), scaled to cover the frame', async () => {
    const { frames, plates } = await shots('over', 1);
    const backdrop = path.join(root, 'over', 'backdrop.png');
    // Twice the frame's size, blue: scaled down to cover the frame.
    const blue = { data: new Uint8Array(W * 2 * H * 2 * 3).map((_, i) => (i % 3 === 2 ? 230 : 20)), width: W * 2, height: H * 2, channels: 3 as const };
    await writeFile(backdrop, await toPng(blue));
    const out = path.join(root, 'over', 'out');
    const run = await cli('matte', path.join(frames, 'shot1.png'), '--plate', path.join(plates, 'shot1.png'), '-o', out, '--outputs', 'composite', '--composite-over', backdrop);
    expect(run.code, run.stderr).toBe(0);
    const comp = await decodeRaw(await readFile(path.join(out, 'shot1.composite.png')));
    expect([comp.width, comp.height]).toEqual([W, H]);
    expect(meanIn(comp, OUTSIDE, 2)).toBeGreaterThan(215); // the backdrop where there is no subject
    expect(meanIn(comp, OUTSIDE, 0)).toBeLessThan(35);
    expect(meanIn(comp, inside(squareFor(1)), 0)).toBeGreaterThan(230); // the subject (white) over it
  });

  it('reports bad images in a folder by name, mattes the good ones, and exits 1', async () => {
    const { frames, plates } = await shots('mixed', 2);
    const good = await readFile(path.join(frames, 'shot1.png'));
    const bad: Record<string, Buffer> = {
      'empty.png': Buffer.alloc(0),
      'cut.png': truncate(good),
      'noise.png': corruptPng(good),
      'text.png': Buffer.from('not an image at all'),
      'huge.png': pngClaimingSize(100_000, 100_000),
      'small.png': await toPng(texturedPlate(W / 2, H / 2)),
    };
    for (const [name, bytes] of Object.entries(bad)) {
      await writeFile(path.join(frames, name), bytes);
      await writeFile(path.join(plates, name), await readFile(path.join(plates, 'shot1.png')));
    }
    const out = path.join(root, 'mixed', 'out');
    const run = await cli('matte', frames, '--plate', plates, '-o', out);
    expect(run.code).toBe(1);
    expect((await readdir(out)).sort()).toEqual(['shot1.alpha.png', 'shot2.alpha.png']);
    expect(run.stderr).toMatch(/empty\.png.*empty \(0 bytes\)/);
    expect(run.stderr).toMatch(/cut\.png.*corrupt or truncated/);
    expect(run.stderr).toMatch(/noise\.png.*could not be read/);
    expect(run.stderr).toMatch(/text\.png.*not in a supported image format/);
    expect(run.stderr).toMatch(/huge\.png.*100000x100000.*8192x8192/);
    expect(run.stderr).toMatch(/small\.png: the plate \(background\) is 128x80 but the image is 64x40/);
    expect(run.stderr).toMatch(/matted 2 of 8 images .*; 6 failed/);
  });
});

// Each case is its own process and mostly start-up time: run them side by side.
describe.concurrent('cleanplate matte: bad command lines exit 2 with a message and write nothing', () => {
  let frames: string;
  let plates: string;
  beforeAll(async () => {
    ({ frames, plates } = await shots('usage', 2));
    await writeFile(path.join(root, 'usage', 'plate.bmp'), bmp(W, H));
    await writeFile(path.join(root, 'usage', 'empty-plate.png'), Buffer.alloc(0));
    await writeFile(path.join(root, 'usage', 'small-plate.png'), await toPng(texturedPlate(W / 2, H / 2)));
    await mkdir(path.join(root, 'usage', 'few-plates'));
    await writeFile(path.join(root, 'usage', 'few-plates', 'shot1.png'), await readFile(path.join(plates, 'shot1.png')));
    await mkdir(path.join(root, 'usage', 'no-images'));
    await writeFile(path.join(root, 'usage', 'no-images', 'readme.txt'), 'hi');
  });

  const cases: [string, () => string[], RegExp][] = [
    ['no command', () => [], /usage: cleanplate <command>/],
    ['an unknown command', () => ['frobnicate'], /unknown command "frobnicate"/],
    ['no input', () => ['matte'], /needs an input/],
    ['no plate', () => ['matte', frames], /--plate is required/],
    ['a missing input', () => ['matte', path.join(root, 'usage', 'nope.png'), '--plate', plates], /input not found/],
    ['a missing plate', () => ['matte', frames, '--plate', path.join(root, 'usage', 'nope.png')], /plate not found/],
    ['an unsupported input format', () => ['matte', path.join(root, 'usage', 'plate.bmp'), '--plate', plates], /cannot matte .*plate\.bmp/],
    ['an unreadable plate', () => ['matte', frames, '--plate', path.join(root, 'usage', 'empty-plate.png')], /plate empty-plate\.png is empty/],
    ['plates missing for some images', () => ['matte', frames, '--plate', path.join(root, 'usage', 'few-plates')], /no plate in .*few-plates for shot2\.png/],
    [
      'one image against a plate of another size (as for clips)',
      () => ['matte', path.join(frames, 'shot1.png'), '--plate', path.join(root, 'usage', 'small-plate.png')],
      /the plate \(background\) is 64x40 but the image is 128x80/,
    ],
    ['a folder without images', () => ['matte', path.join(root, 'usage', 'no-images'), '--plate', plates], /no images in/],
    ['an unknown option', () => ['matte', frames, '--plate', plates, '--colour', 'red'], /Unknown option '--colour'/],
    ['bad outputs', () => ['matte', frames, '--plate', plates, '--outputs', 'alpha,depth'], /--outputs must be a comma list/],
    ['a bad composite colour', () => ['matte', frames, '--plate', plates, '--composite-color', 'green'], /--composite-color must be #rrggbb/],
    ['a composite colour and image together', () => ['matte', frames, '--plate', plates, '--composite-color', '#000000', '--composite-over', path.join(plates, 'shot1.png')], /not both/],
    ['a video to composite stills over', () => ['matte', frames, '--plate', plates, '--composite-over', path.join(root, 'usage', 'clip.mp4')], /--composite-over for images takes an image/],
    ['a missing composite image', () => ['matte', frames, '--plate', plates, '--composite-over', path.join(root, 'usage', 'nope.png')], /--composite-over: cannot read/],
    ['an undecodable composite image', () => ['matte', frames, '--plate', plates, '--composite-over', path.join(root, 'usage', 'empty-plate.png')], /--composite-over: .*empty/],
    ['an unknown model', () => ['matte', frames, '--plate', plates, '--model', 'nope'], /unknown model "nope"/],
    ['two inputs', () => ['matte', frames, frames, '--plate', plates], /one input/],
  ];
  it.each(cases.map(([name, args, message]) => ({ name, args, message })))('$name', async ({ args, message }) => {
    const run = await cli(...args());
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    expect(await readdir(path.join(frames))).toEqual(['shot1.png', 'shot2.png']); // no output folder created
  });
});
