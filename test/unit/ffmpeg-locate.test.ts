// The locator on this machine: system ffmpeg on PATH, env overrides, and the fallback to the
// binaries shipped in the optional npm packages when PATH has no ffmpeg (PATH pointed away).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { locateMediaTools, locateTool, ToolNotFoundError } from '../../src/engine/media/ffmpeg-locate.js';
import { runTool } from '../../src/engine/media/process.js';

let emptyDir: string;
beforeAll(async () => {
  emptyDir = await mkdtemp(path.join(os.tmpdir(), 'cp-nopath-'));
});
afterAll(async () => {
  await rm(emptyDir, { recursive: true, force: true });
});

describe('ffmpeg-locate', () => {
  it('prefers the system ffmpeg on PATH', async () => {
    const tools = await locateMediaTools({ PATH: '/usr/local/bin:/usr/bin:/bin' });
    expect(tools.ffmpeg.source).toBe('system');
    expect(tools.ffmpeg.path).toMatch(/\/ffmpeg$/);
    expect(tools.ffmpeg.version).toMatch(/^\d|^n\d|^N-/);
    expect(tools.ffprobe.source).toBe('system');
  });

  it('uses FFMPEG_PATH/FFPROBE_PATH when set, and refuses a bad one instead of silently falling back', async () => {
    const t = await locateTool('ffmpeg', { PATH: emptyDir, FFMPEG_PATH: '/usr/bin/ffmpeg' });
    expect(t).toMatchObject({ path: '/usr/bin/ffmpeg', source: 'env' });
    await expect(locateTool('ffprobe', { PATH: '/usr/bin', FFPROBE_PATH: path.join(emptyDir, 'nope') })).rejects.toThrow(/FFPROBE_PATH .* not an executable/);
  });

  it('falls back to the npm-packaged binaries when PATH has no ffmpeg, and they run', async () => {
    const tools = await locateMediaTools({ PATH: emptyDir });
    expect(tools.ffmpeg.source).toBe('npm-package');
    expect(tools.ffprobe.source).toBe('npm-package');
    expect(tools.ffmpeg.path).toContain('node_modules');
    // The shipped build can encode what the pipeline writes (ProRes 4444 with alpha).
    const out = await runTool(tools.ffmpeg.path, [
      '-hide_banner',
      '-v',
      'error',
      '-f',
      'lavfi',
      '-i',
      'color=c=red:s=64x64:d=0.04,format=rgba',
      '-c:v',
      'prores_aw',
      '-profile:v',
      '4',
      '-pix_fmt',
      'yuva444p10le',
      '-f',
      'mov',
      '-movflags',
      'frag_keyframe+empty_moov',
      '-',
    ]);
    expect(out.length).toBeGreaterThan(1000);
  });

  it('says how to fix a missing ffmpeg', async () => {
    await expect(locateTool('ffmpeg', { PATH: emptyDir }, { npmFallback: false })).rejects.toSatisfy(
      (e: unknown) => e instanceof ToolNotFoundError && /install ffmpeg.*FFMPEG_PATH.*@ffmpeg-installer\/ffmpeg/.test(e.message),
    );
  });
});
