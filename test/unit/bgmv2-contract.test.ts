// The BGMv2 contract check and the splice, on fixtures with the official names and layouts.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { afterAll, describe, expect, it } from 'vitest';
import { checkBgmv2Contract, decodeModel, ModelContractError } from '../../src/engine/matting/bgmv2/contract.js';
import { loadBgmv2Model } from '../../src/engine/matting/bgmv2/session.js';
import { IO, spliceBgmv2 } from '../../src/engine/matting/bgmv2/splice.js';
import { buildBgmv2Fixture } from '../support/bgmv2-fixture.js';
import { removeTempDirs, tempDir } from '../support/bgmv2-models.js';

const { onnx } = onnxProto;

function contractOf(bytes: Uint8Array) {
  return checkBgmv2Contract(decodeModel(bytes, 'fixture.onnx'), 'fixture.onnx');
}

describe('bgmv2 contract', () => {
  afterAll(removeTempDirs);

  it('accepts the official layout and finds the debugging outputs that are there', () => {
    const full = contractOf(buildBgmv2Fixture());
    expect(full).toEqual({ opset: 12, outputs: ['pha', 'fgr', 'pha_sm', 'fgr_sm', 'err_sm', 'ref_sm'], hasError: true });
    const minimal = contractOf(buildBgmv2Fixture({ debugOutputs: false, opset: 11 }));
    expect(minimal).toEqual({ opset: 11, outputs: ['pha', 'fgr'], hasError: false });
  });

  it('accepts outputs whose channels are declared symbolically (PyTorch 1.13) or not at all, and checks them on a probe run', async () => {
    for (const outputDims of ['symbolic', 'missing'] as const) {
      const bytes = buildBgmv2Fixture({ outputDims });
      const declared = decodeModel(bytes, 'x').graph!.output![0]!.type!.tensorType!.shape?.dim?.map((d) => d.dimParam);
      expect(declared, outputDims).toEqual(outputDims === 'symbolic' ? ['batch', 'Clippha_dim_1', 'height', 'width'] : undefined);
      expect(contractOf(bytes).hasError, outputDims).toBe(true);
    }
    const dir = await tempDir('cleanplate-bgmv2-');
    const settings = { refineMode: 'sampling', refineSamplePixels: 3200 } as const;
    const good = path.join(dir, 'symbolic.onnx');
    await writeFile(good, buildBgmv2Fixture({ outputDims: 'symbolic' }));
    const loaded = await loadBgmv2Model(good, 'symbolic.onnx', settings, ['cpu']);
    await loaded.session.release();
    // Declared symbolically, but pha really has 3 channels: the probe run finds it.
    const bad = path.join(dir, 'three.onnx');
    await writeFile(bad, buildBgmv2Fixture({ outputDims: 'symbolic', realPhaChannels: 3 }));
    await expect(loadBgmv2Model(bad, 'three.onnx', settings, ['cpu'])).rejects.toThrow(
      /^three.onnx: output "pha" must be float32 \(B, 1, H, W\) \(NCHW, channels first\), but on a \d+x\d+ probe frame it came out as \(1, 3, /,
    );
    // A declared shape that contradicts the contract is still refused from the declaration.
    const literalWrong = decodeModel(buildBgmv2Fixture({ outputDims: 'symbolic' }), 'x');
    literalWrong.graph!.output![1]!.type!.tensorType!.shape!.dim![1] = onnx.TensorShapeProto.Dimension.create({ dimValue: 4 });
    expect(() => checkBgmv2Contract(literalWrong, 'four.onnx')).toThrow(
      /four.onnx: output "fgr" must be float32 \(B, 3, H, W\) \(NCHW, channels first\), but its shape is \(batch, 4, height, width\)/,
    );
  });

  it('names what is wrong with a model that does not keep the contract', () => {
    expect(() => contractOf(buildBgmv2Fixture({ inputNames: ['input', 'background'] }))).toThrow(/expected inputs "src" and "bgr".*found "input", "background"/);
    expect(() => contractOf(buildBgmv2Fixture({ layout: 'nhwc' }))).toThrow(/input "src" must be float32 \(B, 3, H, W\).*channels first.*\(batch, height, width, 3\)/);
    expect(() => contractOf(buildBgmv2Fixture({ opset: 10 }))).toThrow(/opset 10/);

    // Outputs renamed: pha -> alpha.
    const model = decodeModel(buildBgmv2Fixture(), 'x');
    model.graph!.output![0]!.name = 'alpha';
    expect(() => checkBgmv2Contract(model, 'renamed.onnx')).toThrow(/renamed.onnx: expected outputs "pha" and "fgr".*found "alpha", "fgr"/);

    // float16 export.
    const half = decodeModel(buildBgmv2Fixture(), 'x');
    half.graph!.input![0]!.type!.tensorType!.elemType = 10;
    expect(() => checkBgmv2Contract(half, 'half.onnx')).toThrow(/"src" must be float32.*ONNX type 10/);
  });

  it('refuses a truncated file and a file that is not ONNX', () => {
    const bytes = buildBgmv2Fixture();
    expect(() => decodeModel(bytes.subarray(0, Math.floor(bytes.length / 2)), 'half.onnx')).toThrow(ModelContractError);
    expect(() => decodeModel(bytes.subarray(0, Math.floor(bytes.length / 2)), 'half.onnx')).toThrow(/half.onnx is not an ONNX model/);
    expect(() => decodeModel(new TextEncoder().encode('<html>Google Drive: virus scan warning</html>'), 'page.onnx')).toThrow(/page.onnx is not an ONNX model/);
    expect(() => decodeModel(new Uint8Array(0), 'empty.onnx')).toThrow(/empty.onnx is not an ONNX model/);
  });

  it('splices uint8 pre/post-processing into the export: one graph, the official graph kept, its opset kept', async () => {
    const original = decodeModel(buildBgmv2Fixture(), 'fixture.onnx');
    const officialNodes = original.graph!.node!.length;
    const spliced = spliceBgmv2(decodeModel(buildBgmv2Fixture(), 'fixture.onnx'), 'fixture.onnx');
    const model = onnx.ModelProto.decode(spliced.bytes);
    expect(model.opsetImport.map((o) => [o.domain, Number(o.version)])).toEqual([['', 12]]);
    expect(model.graph!.input!.map((i) => i.name)).toEqual([IO.pads, IO.frame, IO.plate]);
    expect(model.graph!.output!.map((o) => o.name)).toEqual([IO.alpha, IO.foreground, IO.error]);
    // Every official node is still there, unrenamed, fed by the wrapper's src/bgr.
    const names = new Set(model.graph!.node!.map((n) => n.name));
    for (const n of original.graph!.node!) expect(names.has(n.name!)).toBe(true);
    expect(model.graph!.node!.length).toBeGreaterThan(officialNodes);
    const session = await ort.InferenceSession.create(spliced.bytes);
    expect([...session.inputNames].sort()).toEqual([IO.frame, IO.pads, IO.plate].sort());
    await session.release();

    const noErr = spliceBgmv2(decodeModel(buildBgmv2Fixture({ debugOutputs: false }), 'x'), 'x');
    expect(onnx.ModelProto.decode(noErr.bytes).graph!.output!.map((o) => o.name)).toEqual([IO.alpha, IO.foreground]);
  });

  it('converts uint8 to float exactly as the reference does: x / 255 in float32, all 256 values', async () => {
    const spliced = spliceBgmv2(decodeModel(buildBgmv2Fixture({ refineSamplePixels: 16 }), 'x'), 'x');
    // Expose the official graph's `src` input, which the wrapper now produces, as an extra output.
    const model = onnx.ModelProto.decode(spliced.bytes);
    model.graph!.output!.push(onnx.ValueInfoProto.create({ name: 'src', type: { tensorType: { elemType: 1 } } }));
    const session = await ort.InferenceSession.create(onnx.ModelProto.encode(model).finish());
    const W = 16;
    const H = 16;
    const frame = Uint8Array.from({ length: W * H * 3 }, (_, i) => i % 256);
    const out = await session.run(
      {
        [IO.frame]: new ort.Tensor('uint8', frame, [1, H, W, 3]),
        [IO.plate]: new ort.Tensor('uint8', frame, [1, H, W, 3]),
        [IO.pads]: new ort.Tensor('int64', new BigInt64Array(8), [8]),
      },
      ['src'],
    );
    await session.release();
    const src = out.src!.data as Float32Array;
    const plane = W * H;
    const seen = new Set<number>();
    let mismatches = 0;
    for (let i = 0; i < plane; i++) {
      for (let c = 0; c < 3; c++) {
        const v = frame[i * 3 + c]!;
        seen.add(v);
        // Math.fround(v / 255) is the correctly rounded float32 quotient (double rounding is exact for division).
        if (src[c * plane + i] !== Math.fround(v / 255)) mismatches += 1;
      }
    }
    expect(seen.size).toBe(256);
    expect(mismatches).toBe(0);
  });

  it('turns an onnxruntime load failure into a contract error naming the file', async () => {
    // Valid protobuf, official names, but a node onnxruntime does not know.
    const model = decodeModel(buildBgmv2Fixture(), 'x');
    model.graph!.node![0]!.opType = 'NoSuchOp';
    const dir = await tempDir('cleanplate-bgmv2-');
    const file = path.join(dir, 'broken.onnx');
    await writeFile(file, onnx.ModelProto.encode(model).finish());
    await expect(loadBgmv2Model(file, 'models/broken.onnx', { refineMode: 'sampling', refineSamplePixels: 3200 }, ['cpu'])).rejects.toThrow(/models\/broken.onnx: onnxruntime cannot load it/);
  });
});
