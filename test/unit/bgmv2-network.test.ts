// The real-size BGMv2 graph `npm run bench bgmv2` times: it keeps the official contract, its
// refiner really refines its budget of patches (TopK of refineSamplePixels / 16, only where the
// error is above 0), and it runs through the engine's loader like an export would.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBgmv2Contract, decodeModel } from '../../src/engine/matting/bgmv2/contract.js';
import { paddedSize } from '../../src/engine/matting/bgmv2/presets.js';
import { loadBgmv2Model } from '../../src/engine/matting/bgmv2/session.js';
import { buildBgmv2Network } from '../../bench/networks/bgmv2-mobilenetv2.js';
import { removeTempDirs, tempDir } from '../support/bgmv2-models.js';

describe('bench network: BGMv2 MobileNetV2 at real size, random weights', () => {
  afterAll(removeTempDirs);

  it('keeps the contract, refines exactly its patch budget, and loads as an export', async () => {
    const settings = { backboneScale: 0.25, refineMode: 'sampling', refineSamplePixels: 80_000 } as const;
    const { bytes } = buildBgmv2Network(settings);
    expect(checkBgmv2Contract(decodeModel(bytes, 'net'), 'net').outputs).toEqual(['pha', 'fgr', 'pha_sm', 'fgr_sm', 'err_sm', 'ref_sm']);

    const { width: W, height: H } = paddedSize(200, 120, settings);
    const session = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1 });
    const frame = new Float32Array(3 * W * H).map((_, i) => ((i * 7919) % 1000) / 1000);
    const plate = new Float32Array(3 * W * H).map((_, i) => ((i * 104729) % 1000) / 1000);
    const out = await session.run({ src: new ort.Tensor('float32', frame, [1, 3, H, W]), bgr: new ort.Tensor('float32', plate, [1, 3, H, W]) });
    await session.release();
    expect(out.pha!.dims).toEqual([1, 1, H, W]);
    expect(out.err_sm!.dims).toEqual([1, 1, Math.floor(H / 4), Math.floor(W / 4)]);
    const ref = out.ref_sm!.data as Float32Array;
    expect(out.ref_sm!.dims).toEqual([1, 1, H / 4, W / 4]);
    expect(ref.reduce((a, v) => a + v, 0)).toBe(80_000 / 16);
    const pha = out.pha!.data as Float32Array;
    expect(pha.every((v) => v >= 0 && v <= 1)).toBe(true);

    const file = path.join(await tempDir('cleanplate-net-'), 'net.onnx');
    await writeFile(file, bytes);
    const loaded = await loadBgmv2Model(file, 'net.onnx', settings, ['cpu']);
    expect(loaded.contract.hasError).toBe(true);
    await loaded.session.release();
  });
});
