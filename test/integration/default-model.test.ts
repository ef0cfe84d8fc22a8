// The default model is the best one present, and "available" means "opens": official BGMv2 weights
// when installed, else the fused model when its learned part (models/rvm.onnx) opens, else plate;
// a corrupt learned file is unavailable with the reason and the default falls back, and a file
// that breaks after the engine checked it makes the default fall back without failing the request.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { MattingService } from '../../src/engine/services/matting-service.js';
import type { ModelList } from '../../src/shared/api.js';
import { fixtureFor, HD_ID, makeModelsDir, removeTempDirs } from '../support/bgmv2-models.js';
import { startTestEngine } from '../support/engine.js';
import { texturedPlate } from '../support/images.js';
import { rvmOnnx } from '../support/rvm.js';

const CORRUPT = new TextEncoder().encode('not an onnx model at all');

afterAll(removeTempDirs);

async function registryWith(files: { bgmv2?: 'good' | 'corrupt'; rvm?: 'good' | 'corrupt' }): Promise<ModelRegistry> {
  const bytes: Record<string, Uint8Array> = {};
  if (files.bgmv2) bytes[HD_ID] = files.bgmv2 === 'good' ? await fixtureFor(HD_ID) : CORRUPT;
  if (files.rvm) bytes.rvm = files.rvm === 'good' ? await rvmOnnx() : CORRUPT;
  return ModelRegistry.load(await makeModelsDir(bytes));
}

describe('default model: the best one present', () => {
  const cases: [string, string, Parameters<typeof registryWith>[0], RegExp][] = [
    ['no model files', 'plate', {}, /rvm\.onnx is missing: run "npm run models:rvm"/],
    ['rvm.onnx built', 'fused', { rvm: 'good' }, /rvm\.onnx opens/],
    ['BGMv2 weights installed', 'bgmv2', { bgmv2: 'good' }, /official BackgroundMattingV2 weights/],
    ['BGMv2 weights and rvm.onnx', 'bgmv2', { bgmv2: 'good', rvm: 'good' }, /official BackgroundMattingV2 weights/],
    ['a corrupt rvm.onnx', 'plate', { rvm: 'corrupt' }, /rvm\.onnx does not open .*npm run models:rvm/],
    ['corrupt BGMv2 weights and rvm.onnx', 'fused', { bgmv2: 'corrupt', rvm: 'good' }, /bgmv2-mobilenetv2-hd\.onnx does not open/],
  ];
  it.each(cases)('%s -> %s, with the reason', async (_name, want, files, reason) => {
    const registry = await registryWith(files);
    expect(registry.defaultModel.id).toBe(want);
    expect(registry.defaultModel.reason).toMatch(reason);
    const listed = registry.list();
    expect(listed.filter((m) => m.default).map((m) => m.id)).toEqual([want]);
    if (files.rvm === 'corrupt') {
      for (const id of ['rvm', 'fused']) expect(listed.find((m) => m.id === id)).toMatchObject({ available: false, unavailableReason: expect.stringMatching(/does not open/) });
    }
  });

  it('/v1/models and /v1/health name the default and say why', async () => {
    const t = await startTestEngine({ modelsDir: await makeModelsDir({ rvm: CORRUPT }), warmUp: false });
    try {
      const list = (await (await t.api('/v1/models')).json()) as ModelList;
      expect(list.defaultModel).toMatchObject({ id: 'plate', reason: expect.stringMatching(/fused: models\/rvm\.onnx does not open/) });
      expect(list.models.find((m) => m.id === 'fused')).toMatchObject({ available: false, default: false });
      const health = (await (await t.api('/v1/health')).json()) as { defaultModel: { id: string; reason: string } };
      expect(health.defaultModel).toEqual(list.defaultModel);
    } finally {
      await t.stop();
    }
  });

  it('a learned file that breaks after the check: the request with no model falls back to plate and succeeds', async () => {
    const dir = await makeModelsDir({ rvm: await rvmOnnx() });
    const registry = await ModelRegistry.load(dir);
    expect(registry.defaultId).toBe('fused');
    await writeFile(path.join(dir, 'rvm.onnx'), CORRUPT); // replaced behind the engine's back
    const matting = new MattingService(registry);
    try {
      const plate = texturedPlate(64, 48);
      const { modelId, result } = await matting.run(undefined, plate, plate);
      expect(modelId).toBe('plate');
      expect(result.alpha.data.length).toBe(64 * 48);
      expect(registry.defaultModel).toMatchObject({ id: 'plate', reason: expect.stringMatching(/does not open/) });
      // Naming the broken model still fails, with the reason.
      await expect(matting.run('fused', plate, plate)).rejects.toThrow(/not available.*does not open|cannot run/);
    } finally {
      await matting.dispose();
    }
  });
});
