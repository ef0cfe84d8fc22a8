// Hand-built TFJS graph models for the converter's op-by-op tests: nodes, attributes in TF's
// JSON form, and constants packed into a weights buffer (optionally uint8-quantized, as RVM's).
import * as ort from 'onnxruntime-node';
import { tfjsToOnnx, type ConvertOptions } from '../../src/engine/models/tfjs-onnx/convert.js';
import { readWeights, type TfAttr, type TfjsModelJson, type TfNode, type TfWeightSpec } from '../../src/engine/models/tfjs-onnx/model-json.js';

export const attr = {
  i: (v: number): TfAttr => ({ i: String(v) }),
  ints: (v: number[]): TfAttr => ({ list: { i: v.map(String) } }),
  s: (v: string): TfAttr => ({ s: Buffer.from(v).toString('base64') }),
  strs: (v: string[]): TfAttr => ({ list: { s: v.map((x) => Buffer.from(x).toString('base64')) } }),
  b: (v: boolean): TfAttr => ({ b: v }),
  type: (v: 'DT_FLOAT' | 'DT_INT32' | 'DT_BOOL'): TfAttr => ({ type: v }),
};

export class TfGraph {
  private readonly nodes: TfNode[] = [];
  private readonly specs: TfWeightSpec[] = [];
  private readonly chunks: Buffer[] = [];

  placeholder(name: string, dims?: number[], dtype: 'DT_FLOAT' | 'DT_INT32' = 'DT_FLOAT'): string {
    const shape = dims ? { dim: dims.map((d) => ({ size: String(d) })) } : { unknownRank: true };
    this.nodes.push({ name, op: 'Placeholder', attr: { dtype: attr.type(dtype), shape: { shape } } });
    return name;
  }

  float(name: string, shape: number[], values: number[]): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_FLOAT') } });
    this.specs.push({ name, shape, dtype: 'float32' });
    this.chunks.push(Buffer.from(Float32Array.from(values).buffer));
    return name;
  }

  /** A float constant stored uint8-quantized: value = q * scale + min. */
  quantized(name: string, shape: number[], q: number[], min: number, scale: number): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_FLOAT') } });
    this.specs.push({ name, shape, dtype: 'float32', quantization: { dtype: 'uint8', min, scale } });
    this.chunks.push(Buffer.from(Uint8Array.from(q)));
    return name;
  }

  int(name: string, shape: number[], values: number[]): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_INT32') } });
    this.specs.push({ name, shape, dtype: 'int32' });
    this.chunks.push(Buffer.from(Int32Array.from(values).buffer));
    return name;
  }

  bool(name: string, value: boolean): string {
    this.nodes.push({ name, op: 'Const', attr: { dtype: attr.type('DT_BOOL') } });
    this.specs.push({ name, shape: [], dtype: 'bool' });
    this.chunks.push(Buffer.from([value ? 1 : 0]));
    return name;
  }

  op(name: string, op: string, inputs: string[], attrs: Record<string, TfAttr> = {}): string {
    this.nodes.push({ name, op, input: inputs, attr: { T: attr.type('DT_FLOAT'), ...attrs } });
    return name;
  }

  build(): { model: TfjsModelJson; bin: Buffer } {
    return {
      model: { format: 'graph-model', modelTopology: { node: this.nodes }, weightsManifest: [{ paths: ['w.bin'], weights: this.specs }] },
      bin: Buffer.concat(this.chunks),
    };
  }

  /** Converts with `outputs` (ONNX name -> TF ref) and opens the result in onnxruntime. */
  async session(outputs: Record<string, string>, options: ConvertOptions = {}): Promise<ort.InferenceSession> {
    const { model, bin } = this.build();
    const bytes = tfjsToOnnx(model, readWeights(model, bin), { ...options, outputs });
    return ort.InferenceSession.create(bytes, { executionProviders: ['cpu'], intraOpNumThreads: 1 });
  }
}

/** Runs a session on float inputs and returns each output's data and dims. */
export async function runOnnx(
  session: ort.InferenceSession,
  feeds: Record<string, { data: number[] | Float32Array | Int32Array; dims: number[] }>,
): Promise<Record<string, { data: number[]; dims: number[] }>> {
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([k, v]) => [k, v.data instanceof Int32Array ? new ort.Tensor('int32', v.data, v.dims) : new ort.Tensor('float32', Float32Array.from(v.data), v.dims)]),
  );
  const out = await session.run(tensors);
  return Object.fromEntries(Object.entries(out).map(([k, t]) => [k, { data: Array.from(t.data as Float32Array, Number), dims: t.dims.map(Number) }]));
}

/** Deterministic pseudo-random values in [-1, 1), exact in float32. */
export function noise(n: number, seed = 1): number[] {
  let s = seed >>> 0 || 1;
  return Array.from({ length: n }, () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return Math.fround(s / 2 ** 31 - 1);
  });
}
