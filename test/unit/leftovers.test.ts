// The checks a restarted engine applies before it stops a process or removes a file: which paths
// are temp names it makes, and that a decoy process of the same or another user is refused.
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isEngineTempPath, removeEngineTemp, stopRecordedEncoder } from '../../src/engine/media/leftovers.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-leftovers-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('isEngineTempPath', () => {
  it('accepts only ".<name>.partial-<8 hex>" directly inside the output folder', () => {
    const out = '/media/out';
    expect(isEngineTempPath('/media/out/.a_f0-9_prores4444.mov.partial-0a1b2c3d', out)).toBe(true);
    for (const p of [
      '/',
      '/media/out',
      '/media/out/a.mov',
      '/media/out/.a.mov.partial-xyz',
      '/media/out/sub/.a.mov.partial-0a1b2c3d',
      '/media/other/.a.mov.partial-0a1b2c3d',
      '/media/out/../out/.a.mov.partial-0a1b2c3d',
      'out/.a.mov.partial-0a1b2c3d',
      '/media/out/.a.mov.partial-0a1b2c3d/',
    ]) {
      expect(isEngineTempPath(p, out), p).toBe(false);
    }
  });
});

describe('removeEngineTemp', () => {
  it('removes a temp file and a temp folder of PNG frames; leaves a folder with other files, and a symlink', async () => {
    const file = path.join(dir, '.x.mov.partial-00000001');
    await writeFile(file, 'x');
    expect(await removeEngineTemp(file)).toBeUndefined();
    const frames = path.join(dir, '.x_png.partial-00000002');
    await mkdir(frames);
    await writeFile(path.join(frames, 'frame_000001.png'), 'p');
    expect(await removeEngineTemp(frames)).toBeUndefined();
    const mixed = path.join(dir, '.y_png.partial-00000003');
    await mkdir(mixed);
    await writeFile(path.join(mixed, 'frame_000001.png'), 'p');
    await writeFile(path.join(mixed, 'notes.txt'), 'mine');
    expect(await removeEngineTemp(mixed)).toMatch(/did not make/);
    expect(await readdir(mixed)).toEqual(['notes.txt']);
    const target = path.join(dir, 'precious');
    await mkdir(target);
    await writeFile(path.join(target, 'frame_000001.png'), 'p');
    const link = path.join(dir, '.z_png.partial-00000004');
    await symlink(target, link);
    expect(await removeEngineTemp(link)).toMatch(/not a file or folder/);
    expect(await readdir(target)).toEqual(['frame_000001.png']);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['.y_png.partial-00000003', '.z_png.partial-00000004', 'precious']));
  });
});

describe.runIf(process.platform === 'linux')('stopRecordedEncoder', () => {
  it("refuses a live process that is not the engine's ffmpeg writing those exact temp paths", async () => {
    const temp = path.join(dir, '.t.mov.partial-00000005');
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)', temp], { stdio: 'ignore' });
    try {
      await new Promise((r) => setTimeout(r, 200));
      const pid = child.pid!;
      // Right command line, but not the engine's ffmpeg.
      expect(await stopRecordedEncoder({ pid, executable: process.execPath }, [temp], '/usr/bin/ffmpeg')).toBe('not_ours');
      // The engine's ffmpeg named, but argv[0] / the running image differ.
      expect(await stopRecordedEncoder({ pid, executable: '/usr/bin/ffmpeg' }, [temp], '/usr/bin/ffmpeg')).toBe('not_ours');
      // A substring of the path is not the path.
      expect(await stopRecordedEncoder({ pid, executable: process.execPath }, [temp.slice(0, -2)], process.execPath)).toBe('not_ours');
      expect(await stopRecordedEncoder({ pid, executable: process.execPath }, [], process.execPath)).toBe('not_ours');
      expect(child.exitCode === null && child.signalCode === null).toBe(true);
      // Everything matching: it is stopped (the control case).
      expect(await stopRecordedEncoder({ pid, executable: process.execPath }, [temp], process.execPath)).toBe('stopped');
      expect(child.signalCode ?? (await new Promise((r) => child.once('exit', (_c, s) => r(s))))).toBe('SIGKILL');
      expect(await stopRecordedEncoder({ pid: 2 ** 22 + 7, executable: process.execPath }, [temp], process.execPath)).toBe('gone');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
