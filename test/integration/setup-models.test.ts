// npm start's model set-up (src/cli/setup-models.ts): with models/rvm.onnx present and opening it
// does nothing; when it cannot be built (offline) it says why, names RVM's GPL-3.0 licence, and the
// engine's default is the plate model, which works.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { setUpModels } from '../../src/cli/setup-models.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { makeModelsDir, removeTempDirs } from '../support/bgmv2-models.js';
import { texturedPlate } from '../support/images.js';
import { rvmOnnx } from '../support/rvm.js';

afterAll(removeTempDirs);

describe('npm start model set-up', () => {
  it('leaves a working models/rvm.onnx alone', async () => {
    const lines: string[] = [];
    expect(await setUpModels(await makeModelsDir({ rvm: await rvmOnnx() }), (l) => lines.push(l))).toBe('present');
    expect(lines).toEqual([]);
  });

  it('offline: says it could not build the learned part (GPL-3.0) and the engine runs the plate model', async () => {
    const dir = await makeModelsDir();
    const emptyCache = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-npm-cache-'));
    const saved = { offline: process.env.npm_config_offline, cache: process.env.npm_config_cache };
    // npm pack from an empty cache with the network refused: what a machine without internet sees.
    process.env.npm_config_offline = 'true';
    process.env.npm_config_cache = emptyCache;
    const lines: string[] = [];
    try {
      expect(await setUpModels(dir, (l) => lines.push(l))).toBe('failed');
    } finally {
      for (const [k, v] of [
        ['npm_config_offline', saved.offline],
        ['npm_config_cache', saved.cache],
      ] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      await rm(emptyCache, { recursive: true, force: true });
    }
    const text = lines.join('\n');
    expect(text).toMatch(/rvm\.onnx is missing: building it now/);
    expect(text).toMatch(/GPL-3\.0/);
    expect(text).toMatch(/models:rvm failed: .*npm could not fetch/);
    expect(text).toMatch(/the engine starts with the "plate" model/);
    const registry = await ModelRegistry.load(dir);
    expect(registry.defaultModel).toMatchObject({ id: 'plate', reason: expect.stringMatching(/fused: model file models\/rvm\.onnx is missing/) });
    const session = await registry.open();
    try {
      const plate = texturedPlate(64, 48);
      expect((await session.run(plate, plate)).alpha.data.length).toBe(64 * 48);
    } finally {
      await session.dispose();
    }
  });
});
