// /v1/health answers from what the engine already knows: ffmpeg and ffprobe are located (each run
// once with -version) while the engine starts, not when the first health request arrives (those
// two child processes made the first answer take 0.2-1.4 s under load: bench still-health).
// Its own file: the located tools are kept per process, and this needs a process that has not
// located them yet.
import { appendFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Health } from '../../src/shared/api.js';
import { startTestEngine, type TestEngine } from '../support/engine.js';

let dir: string;
let log: string;
let t: TestEngine;
const saved = { ffmpeg: process.env.FFMPEG_PATH, ffprobe: process.env.FFPROBE_PATH };

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-health-tools-'));
  log = path.join(dir, 'calls.log');
  appendFileSync(log, '');
  // Stand-ins that record each call and answer -version like the real tools.
  for (const tool of ['ffmpeg', 'ffprobe']) {
    const file = path.join(dir, tool);
    await writeFile(file, `#!/bin/sh\necho "${tool} $*" >> '${log}'\necho "${tool} version 9.9-test Copyright (c) the test"\n`);
    await chmod(file, 0o755);
  }
  process.env.FFMPEG_PATH = path.join(dir, 'ffmpeg');
  process.env.FFPROBE_PATH = path.join(dir, 'ffprobe');
  t = await startTestEngine({ warmUp: false });
});

afterAll(async () => {
  await t?.stop();
  for (const [tool, value] of Object.entries(saved)) {
    const name = tool === 'ffmpeg' ? 'FFMPEG_PATH' : 'FFPROBE_PATH';
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
  await rm(dir, { recursive: true, force: true });
});

const calls = async (): Promise<string[]> => (await readFile(log, 'utf8')).split('\n').filter(Boolean);

describe('health', () => {
  it('reports ffmpeg located at start, and no health request runs a tool', async () => {
    expect((await calls()).sort()).toEqual(['ffmpeg -hide_banner -version', 'ffprobe -hide_banner -version']);
    for (let i = 0; i < 3; i++) {
      const res = await t.api('/v1/health');
      expect(res.status).toBe(200);
      const { media } = (await res.json()) as Health;
      expect(media).toEqual({
        ffmpeg: { path: path.join(dir, 'ffmpeg'), version: '9.9-test', source: 'env' },
        ffprobe: { path: path.join(dir, 'ffprobe'), version: '9.9-test', source: 'env' },
      });
    }
    expect(await calls()).toHaveLength(2);
  });
});
