import { messageOf } from '../../../shared/error-message.js';
// The TensorFlow.js graph-model format (model.json + weight shards): the parts the converter reads.
// A node is {name, op, input[], attr}; attribute values are tagged unions as TF's AttrValue in
// JSON ("i" integers come as strings, "s" strings as base64). Weights are listed in
// weightsManifest in the order their bytes follow each other in the concatenated shards; a
// quantized weight stores uint8/uint16 q with value = q * scale + min.

export type TfDtype = 'float32' | 'int32' | 'bool';

export interface TfAttr {
  readonly i?: string | number;
  readonly f?: number;
  readonly b?: boolean;
  readonly s?: string;
  readonly type?: string;
  readonly shape?: { readonly dim?: readonly { readonly size?: string | number }[]; readonly unknownRank?: boolean };
  readonly list?: { readonly i?: readonly (string | number)[]; readonly s?: readonly string[]; readonly f?: readonly number[] };
  readonly tensor?: { readonly dtype?: string; readonly tensorShape?: { readonly dim?: readonly { readonly size?: string | number }[] } };
}

export interface TfNode {
  readonly name: string;
  readonly op: string;
  readonly input?: readonly string[];
  readonly attr?: Readonly<Record<string, TfAttr>>;
}

export interface TfWeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: string;
  readonly quantization?: { readonly dtype: string; readonly min?: number; readonly scale?: number };
}

export interface TfjsModelJson {
  readonly format?: string;
  readonly modelTopology: { readonly node: readonly TfNode[] };
  readonly weightsManifest: readonly { readonly paths: readonly string[]; readonly weights: readonly TfWeightSpec[] }[];
  readonly signature?: {
    readonly inputs?: Readonly<Record<string, { readonly name: string }>>;
    readonly outputs?: Readonly<Record<string, { readonly name: string }>>;
  };
}

/** A constant tensor, dequantized. */
export interface TfTensor {
  readonly dtype: TfDtype;
  readonly shape: readonly number[];
  readonly data: Float32Array | Int32Array | Uint8Array;
}

export class TfjsFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TfjsFormatError';
  }
}

export function parseModelJson(text: string, label = 'model.json'): TfjsModelJson {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new TfjsFormatError(`${label} is not JSON (${messageOf(err)})`);
  }
  const m = raw as Partial<TfjsModelJson>;
  if (!m.modelTopology || !Array.isArray(m.modelTopology.node)) throw new TfjsFormatError(`${label} has no modelTopology.node[]: not a TFJS graph model`);
  if (!Array.isArray(m.weightsManifest)) throw new TfjsFormatError(`${label} has no weightsManifest[]`);
  return m as TfjsModelJson;
}

const ELEMENT_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2 };

function elementCount(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Reads every weight from the concatenated shard bytes, dequantizing uint8/uint16 ones to float32. */
export function readWeights(model: TfjsModelJson, shards: Uint8Array, label = 'weights'): Map<string, TfTensor> {
  const out = new Map<string, TfTensor>();
  const view = new DataView(shards.buffer, shards.byteOffset, shards.byteLength);
  let offset = 0;
  for (const spec of model.weightsManifest.flatMap((g) => g.weights)) {
    const n = elementCount(spec.shape);
    const q = spec.quantization;
    const stored = q ? q.dtype : spec.dtype;
    const size = ELEMENT_BYTES[stored];
    if (size === undefined) throw new TfjsFormatError(`${label}: weight ${spec.name} is stored as ${stored}, which the converter does not read`);
    if (offset + n * size > shards.byteLength) throw new TfjsFormatError(`${label}: ends at byte ${shards.byteLength}, before weight ${spec.name} (needs ${offset + n * size})`);
    let tensor: TfTensor;
    if (q) {
      if (spec.dtype !== 'float32' || (q.dtype !== 'uint8' && q.dtype !== 'uint16') || q.scale === undefined || q.min === undefined) {
        throw new TfjsFormatError(`${label}: weight ${spec.name} uses ${q.dtype} quantization of ${spec.dtype}; only affine uint8/uint16 of float32 is supported`);
      }
      const data = new Float32Array(n);
      for (let k = 0; k < n; k++) {
        const v = q.dtype === 'uint8' ? view.getUint8(offset + k) : view.getUint16(offset + 2 * k, true);
        data[k] = v * q.scale + q.min;
      }
      tensor = { dtype: 'float32', shape: spec.shape, data };
    } else if (spec.dtype === 'float32') {
      const data = new Float32Array(n);
      for (let k = 0; k < n; k++) data[k] = view.getFloat32(offset + 4 * k, true);
      tensor = { dtype: 'float32', shape: spec.shape, data };
    } else if (spec.dtype === 'int32') {
      const data = new Int32Array(n);
      for (let k = 0; k < n; k++) data[k] = view.getInt32(offset + 4 * k, true);
      tensor = { dtype: 'int32', shape: spec.shape, data };
    } else if (spec.dtype === 'bool') {
      tensor = { dtype: 'bool', shape: spec.shape, data: shards.slice(offset, offset + n) };
    } else {
      throw new TfjsFormatError(`${label}: weight ${spec.name} has dtype ${spec.dtype}, which the converter does not read`);
    }
    out.set(spec.name, tensor);
    offset += n * size;
  }
  if (offset !== shards.byteLength) throw new TfjsFormatError(`${label}: the manifest accounts for ${offset} bytes but the shards hold ${shards.byteLength}`);
  return out;
}
