// `cleanplate matte <clip>` as a real process: exact frames out, paths on stdout, bad input
// exits 2 with a message, Ctrl-C (SIGINT) cancels cleanly with no files left behind.
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClip, readFrameIndex, runCapture, type GeneratedClip } from '../support/clips.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
let dir: string;
let clip: GeneratedClip;

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-cli-clips-'));
  clip = await makeClip(dir, 'shot', { rate: '30000/1001', frames: 60 });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], onStderr?: (text: string, child: ReturnType<typeof spawn>) => void): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, CLEANPLATE_THREADS: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => {
    stderr += d.toString();
    onStderr?.(stderr, child);
  });
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

describe('cleanplate matte <clip>', () => {
  it('renders the range given in seconds with a plate taken from the clip, paths on stdout', async () => {
    const out = path.join(dir, 'out');
    const r = await cli(['matte', clip.path, '--plate-at', '0', '--in', '0.5', '--out', '1.5', '--output', 'prores4444,matte', '-o', out]);
    expect(r.stderr).toMatch(/frames 14-44 \(31\)/);
    expect(r.code).toBe(0);
    const paths = r.stdout.trim().split('\n');
    expect(paths.map((p) => path.basename(p))).toEqual(['shot_f14-44_prores4444.mov', 'shot_f14-44_matte.mov']);
    const rgba = await runCapture('ffmpeg', ['-v', 'error', '-i', paths[0]!, '-f', 'rawvideo', '-pix_fmt', 'rgba', '-']);
    const size = 320 * 180 * 4;
    expect(rgba.length).toBe(31 * size);
    expect(readFrameIndex(rgba.subarray(0, size), 320, 4)).toBe(14);
    expect(readFrameIndex(rgba.subarray(30 * size), 320, 4)).toBe(44);
  });

  it('frame-number ranges (300f style) and the progress bar', async () => {
    const out = path.join(dir, 'out-frames');
    const r = await cli(['matte', clip.path, '--plate', clip.platePath, '--in', '3f', '--out', '9f', '--output', 'png', '-o', out]);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/6\/6 100%.*frames\/s/);
    expect((await readdir(r.stdout.trim())).sort()).toEqual(['frame_000003.png', 'frame_000004.png', 'frame_000005.png', 'frame_000006.png', 'frame_000007.png', 'frame_000008.png']);
  });

  it('bad input: a clear message and exit 2, nothing written', async () => {
    const out = path.join(dir, 'out-bad');
    const cases: [string[], RegExp][] = [
      [['matte', path.join(dir, 'missing.mp4'), '--plate-at', '0'], /input not found/],
      [['matte', clip.path, '--plate-at', '0', '--in', '1', '--out', '5', '-o', out], /outside the media: the media has 60 frames/],
      [['matte', clip.path, '--plate-at', '0', '--output', 'gif', '-o', out], /--output must be a comma list/],
      [['matte', clip.path, '-o', out], /needs a clean plate/],
      [['matte', clip.path, '--plate-at', '0', '--in', '1'], /give both --in and --out/],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect([r.code, r.stderr], args.join(' ')).toEqual([2, expect.stringMatching(message)]);
    }
    expect(await readdir(out).catch(() => [])).toEqual([]);
  });

  it('Ctrl-C cancels: exit 130, ffmpeg stopped, no partial files left', async () => {
    const long = await makeClip(dir, 'long', { rate: '25', frames: 500 });
    const out = path.join(dir, 'out-cancel');
    let sent = false;
    const r = await cli(['matte', long.path, '--plate', long.platePath, '--output', 'prores4444,png', '-o', out], (text, child) => {
      // The first progress line comes after the first frame: interrupt then.
      if (!sent && /\] +\d+\/500/.test(text)) {
        sent = true;
        child.kill('SIGINT');
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(130);
    expect(r.stderr).toMatch(/cancelled/);
    expect(r.stdout).toBe('');
    expect(await readdir(out)).toEqual([]);
  });
});
