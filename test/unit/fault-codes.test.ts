// Failures keep to the API's vocabulary: a full disk is `disk_full` (507 over HTTP), OS error
// codes never become a job's error code, and a tool that never answers is killed at its deadline.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeError } from '../../src/engine/http/errors.js';
import { MediaInputError } from '../../src/engine/media/errors.js';
import { probeMedia } from '../../src/engine/media/probe.js';
import { jobErrorCode } from '../../src/engine/services/job-records.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-faults-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const osError = (code: string): NodeJS.ErrnoException => Object.assign(new Error(`${code}: something, write`), { code });

describe('error codes', () => {
  it('a job records API codes as thrown, disk_full for a full disk, internal for OS codes', () => {
    expect(jobErrorCode(new MediaInputError('media_unreadable', 'x'))).toBe('media_unreadable');
    expect(jobErrorCode(osError('ENOSPC'))).toBe('disk_full');
    expect(jobErrorCode(osError('EDQUOT'))).toBe('disk_full');
    expect(jobErrorCode(new Error('encoding failed after 12 frames: [mov @ 0x1] No space left on device'))).toBe('disk_full');
    for (const code of ['EPERM', 'ENOENT', 'EIO', 'ERR_STREAM_DESTROYED']) expect(jobErrorCode(osError(code)), code).toBe('internal');
    expect(jobErrorCode(new Error('plain'))).toBe('internal');
    expect(jobErrorCode('a string')).toBe('internal');
  });

  it('HTTP answers a full disk with 507 disk_full, not 500 internal', () => {
    expect(describeError(osError('ENOSPC'), 1).slice(0, 2)).toEqual([507, 'disk_full']);
    expect(describeError(osError('EIO'), 1).slice(0, 2)).toEqual([500, 'internal']);
  });
});

describe('tool deadlines', () => {
  it('an ffprobe that never answers is killed at the deadline and the probe fails clearly', async () => {
    const stuck = path.join(dir, 'stuck-ffprobe');
    await writeFile(stuck, '#!/bin/sh\nexec sleep 600\n');
    await chmod(stuck, 0o755);
    const media = path.join(dir, 'clip.mp4');
    await writeFile(media, 'not really a clip');
    const tools = { ffmpeg: { path: stuck, version: 'x', source: 'path' }, ffprobe: { path: stuck, version: 'x', source: 'path' } } as never;
    const started = performance.now();
    await expect(probeMedia(tools, media, undefined, 1000)).rejects.toMatchObject({ code: 'media_unreadable', message: expect.stringMatching(/did not answer within 1 s/) });
    expect(performance.now() - started).toBeLessThan(10_000);
  });
});

describe('live errors', () => {
  it('a missing ffmpeg is ffmpeg_missing on the live socket too, as over HTTP', async () => {
    const { toLiveError } = await import('../../src/engine/http/live-ws.js');
    const { ToolNotFoundError } = await import('../../src/engine/media/ffmpeg-locate.js');
    const missing = new ToolNotFoundError('no ffmpeg found (tried PATH)');
    expect(toLiveError(missing)).toMatchObject({ code: 'ffmpeg_missing', message: 'no ffmpeg found (tried PATH)' });
    expect(describeError(missing, 1).slice(0, 2)).toEqual([503, 'ffmpeg_missing']);
    expect(toLiveError(new Error('boom')).code).toBe('internal');
  });
});
