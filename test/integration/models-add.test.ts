// models:add: registering a model file downloaded by hand, on temp models folders.
import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import type { ManifestEntry } from '../../src/engine/matting/manifest.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import type { ModelList } from '../../src/shared/api.js';
import { addModel } from '../../src/engine/models/add-model.js';
import { fetchModel } from '../../src/engine/models/fetch-model.js';
import { exists } from '../../src/engine/models/model-files.js';
import { startTestEngine } from '../support/engine.js';
import { fixtureFor, HD_ID, K4_ID, makeModelsDir, removeTempDirs, sha256, snapshot, tempDir } from '../support/bgmv2-models.js';

const run = promisify(execFile);

async function manifestOf(dir: string): Promise<ManifestEntry[]> {
  return (JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as { models: ManifestEntry[] }).models;
}

/** Saves bytes as a "downloaded" file outside the models folder. */
async function download(name: string, bytes: Uint8Array): Promise<string> {
  const file = path.join(await tempDir('cleanplate-dl-'), name);
  await writeFile(file, bytes);
  return file;
}

describe('models:add', () => {
  afterAll(removeTempDirs);

  it("a user's file named like the official one is recorded as the user's: the official entry keeps its sha256 and URL; /v1/models shows the file in use and where it came from", async () => {
    const dir = await makeModelsDir();
    const official = (await manifestOf(dir)).find((m) => m.id === HD_ID)!;
    const bytes = await fixtureFor(HD_ID);
    const file = await download('onnx_mobilenetv2_hd.onnx', bytes);
    const outcome = await addModel(file, { modelsDir: dir });
    expect(outcome).toMatchObject({ id: HD_ID, status: 'added', sha256: sha256(bytes), newEntry: false, origin: 'user' });
    expect(sha256(await readFile(path.join(dir, 'bgmv2-mobilenetv2-hd.onnx')))).toBe(sha256(bytes));
    const models = await manifestOf(dir);
    expect(models.filter((m) => m.id === HD_ID)).toEqual([official]); // sha256 still null, URL upstream's
    const local = JSON.parse(await readFile(path.join(dir, 'local-files.json'), 'utf8')) as { files: Record<string, { sha256: string; source: string }> };
    expect(local.files[HD_ID]).toMatchObject({ file: 'bgmv2-mobilenetv2-hd.onnx', sha256: sha256(bytes), source: 'added by hand from onnx_mobilenetv2_hd.onnx' });

    // Again: recognised, nothing duplicated or rewritten.
    const before = await snapshot(dir);
    expect(await addModel(file, { modelsDir: dir })).toMatchObject({ id: HD_ID, status: 'already-present', origin: 'user' });
    expect(await snapshot(dir)).toEqual(before);

    // models:fetch does not refuse it as a mismatch: it is in use as the user's.
    expect(await fetchModel(official, { modelsDir: dir, acceptUnverified: true })).toMatchObject({
      status: 'present',
      verified: false,
      mine: { source: 'added by hand from onnx_mobilenetv2_hd.onnx' },
    });
    expect(await snapshot(dir)).toEqual(before);

    const engine = await startTestEngine({ modelsDir: dir, warmUp: false });
    try {
      const listed = ((await (await engine.api('/v1/models')).json()) as ModelList).models;
      const byId = Object.fromEntries(listed.map((m) => [m.id, m]));
      expect(byId[HD_ID]).toMatchObject({
        available: true,
        file: { name: 'bgmv2-mobilenetv2-hd.onnx', present: true, origin: 'user', sha256: sha256(bytes), source: 'added by hand from onnx_mobilenetv2_hd.onnx' },
      });
      expect(byId[K4_ID]!.file).toEqual({ name: 'bgmv2-mobilenetv2-4k.onnx', present: false, origin: 'unrecorded', sha256: null, source: expect.stringContaining(official.url!.replace('hd', '4k')) });
      expect(byId.plate).not.toHaveProperty('file');
      for (const id of ['rvm', 'fused']) expect(byId[id]!.file, id).toMatchObject({ name: 'rvm.onnx', present: false, origin: 'converted' });
    } finally {
      await engine.stop();
    }
  });

  it("a file whose sha256 the manifest records is the official one: installed, nothing recorded as the user's", async () => {
    const bytes = await fixtureFor(HD_ID);
    const dir = await makeModelsDir({}, (m) => m.map((e) => (e.id === HD_ID ? { ...e, sha256: sha256(bytes) } : e)));
    const file = await download('renamed-by-the-browser.onnx', bytes);
    expect(await addModel(file, { modelsDir: dir })).toMatchObject({ id: HD_ID, status: 'added', origin: 'official' });
    expect(await exists(path.join(dir, 'local-files.json'))).toBe(false);
    const entry = (await ModelRegistry.load(dir)).list().find((m) => m.id === HD_ID)!;
    expect(entry).toMatchObject({ available: true, file: { origin: 'official', sha256: sha256(bytes), source: expect.stringMatching(/^https:\/\/github.com\/PeterL1n\//) } });
  });

  it('refuses, changing nothing: wrong contract, not ONNX, truncated, sha256 mismatch, a different file already there, unknown file', async () => {
    const good = await fixtureFor(HD_ID);
    const cases: [string, Uint8Array, Parameters<typeof addModel>[1] extends infer O ? Partial<O> : never, RegExp, ((m: ManifestEntry[]) => ManifestEntry[])?, Record<string, Uint8Array>?][] = [
      ['wrong names', await fixtureFor(HD_ID, { inputNames: ['input', 'background'] }), { id: HD_ID }, /expected inputs "src" and "bgr".*nothing was changed/],
      ['channels last', await fixtureFor(HD_ID, { layout: 'nhwc' }), { id: HD_ID }, /channels first.*nothing was changed/],
      [
        'symbolic dims, 3-channel pha',
        await fixtureFor(HD_ID, { outputDims: 'symbolic', realPhaChannels: 3 }),
        { id: HD_ID },
        /output "pha" must be float32 \(B, 1, H, W\).*probe frame it came out as \(1, 3, .*nothing was changed/,
      ],
      ['not onnx', new TextEncoder().encode('GIF89a...'), { id: HD_ID }, /is not an ONNX model.*nothing was changed/],
      ['truncated', good.subarray(0, good.length - 4096), { id: HD_ID }, /is not an ONNX model.*nothing was changed/],
      [
        'sha mismatch',
        good,
        { id: HD_ID },
        /has sha256 [0-9a-f]{64}, but "bgmv2-mobilenetv2-hd" is [0-9a-f]{64}: this is not the file/,
        (m) => m.map((e) => (e.id === HD_ID ? { ...e, sha256: 'ab'.repeat(32) } : e)),
      ],
      ['taken', good, { id: HD_ID }, /models\/bgmv2-mobilenetv2-hd\.onnx already exists with other content.*left as it is/, undefined, { [HD_ID]: new TextEncoder().encode('mine') }],
      ['unknown', good, {}, /cannot tell which model .* is .*pass --id/],
      ['logical id', good, { id: 'bgmv2' }, /"bgmv2" has no file of its own; add one of its variants/],
      ['new id without preset', good, { id: 'my-export' }, /new model id: say which preset.*--preset hd\|4k/],
    ];
    for (const [what, bytes, options, message, edit, files] of cases) {
      const dir = await makeModelsDir(files ?? {}, edit);
      const before = await snapshot(dir);
      const file = await download(`download-${what.replace(/ /g, '-')}.onnx`, bytes);
      await expect(addModel(file, { modelsDir: dir, ...options }), what).rejects.toThrow(message);
      expect(await snapshot(dir), what).toEqual(before);
    }
  });

  it('accepts an export whose outputs declare their channels symbolically, as PyTorch 1.13 exports them', async () => {
    const dir = await makeModelsDir();
    const bytes = await fixtureFor(HD_ID, { outputDims: 'symbolic' });
    const file = await download('my-export.onnx', bytes);
    expect(await addModel(file, { modelsDir: dir, id: 'my-export', preset: 'hd' })).toMatchObject({ id: 'my-export', status: 'added', sha256: sha256(bytes) });
    const session = await (await ModelRegistry.load(dir)).open('my-export');
    const W = 64;
    const H = 48;
    const plate = new Uint8Array(W * H * 3).fill(40);
    const out = await session.run({ data: new Uint8Array(W * H * 3).fill(240), width: W, height: H, channels: 3 }, { data: plate, width: W, height: H, channels: 3 });
    expect(out.alpha.data.every((a) => a === 255)).toBe(true);
    await session.dispose();
  });

  it("a new id with --preset becomes one new entry with that preset's settings", async () => {
    const dir = await makeModelsDir();
    const bytes = await fixtureFor(K4_ID);
    const file = await download('my-4k-export.onnx', bytes);
    expect(await addModel(file, { modelsDir: dir, id: 'my-4k-export', preset: '4k' })).toMatchObject({ status: 'added', newEntry: true });
    const models = await manifestOf(dir);
    const entry = models.find((m) => m.id === 'my-4k-export')!;
    expect(entry).toMatchObject({ kind: 'bgmv2', file: 'my-4k-export.onnx', sha256: sha256(bytes) });
    expect(entry.settings).toEqual(models.find((m) => m.id === K4_ID)!.settings);
    expect(await addModel(file, { modelsDir: dir, id: 'my-4k-export', preset: '4k' })).toMatchObject({ status: 'already-present' });
    expect((await manifestOf(dir)).filter((m) => m.id === 'my-4k-export')).toHaveLength(1);
  });

  it('npm run models:add: exit 0 with what was installed; exit 1 with the reason', async () => {
    const dir = await makeModelsDir();
    const tsx = path.resolve('node_modules/.bin/tsx');
    const file = await download('onnx_mobilenetv2_4k.onnx', await fixtureFor(K4_ID));
    const ok = await run(tsx, ['scripts/models-add.ts', file, '--models-dir', dir]);
    expect(ok.stdout).toMatch(/bgmv2-mobilenetv2-4k: installed .*bgmv2-mobilenetv2-4k\.onnx \(sha256 [0-9a-f]{64}\)/);

    const bad = await download('onnx_mobilenetv2_hd.onnx', new TextEncoder().encode('oops'));
    const failed = await run(tsx, ['scripts/models-add.ts', bad, '--models-dir', dir]).then(
      () => undefined,
      (e: { code: number; stderr: string }) => e,
    );
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^models:add: onnx_mobilenetv2_hd\.onnx is not an ONNX model .*nothing was changed\n$/);
  });
});
