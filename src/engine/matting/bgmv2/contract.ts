// The contract of the official BackgroundMattingV2 ONNX exports (see BGMV2.md): inputs `src` and
// `bgr`, float32 NCHW RGB in 0..1; outputs `pha` (B,1,H,W) and `fgr` (B,3,H,W), plus debugging
// outputs some exports carry (`pha_sm`, `fgr_sm`, `err_sm`, `ref_sm`). A file is checked against
// it by reading its graph, so a wrong file fails with a sentence naming what is wrong instead of
// an onnxruntime error at the first frame.
import onnxProto from 'onnx-proto';
import type { onnx as OnnxTypes } from 'onnx-proto';
import { messageOf } from '../../../shared/error-message.js';

const { onnx } = onnxProto;

export type ModelProto = InstanceType<typeof onnx.ModelProto>;

/** A model file that is not an ONNX model, or not one that keeps the BGMv2 contract. */
export class ModelContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelContractError';
  }
}

const FLOAT = 1;
/** Pad with `pads` as an input and `mode: edge` exists from opset 11; the official exports use 11 or 12. */
export const MIN_OPSET = 11;

interface TensorSpec {
  readonly name: string;
  /** Static size of dimension 1 (channels) the contract fixes. */
  readonly channels: number;
}

const INPUTS: readonly TensorSpec[] = [
  { name: 'src', channels: 3 },
  { name: 'bgr', channels: 3 },
];
const REQUIRED_OUTPUTS: readonly TensorSpec[] = [
  { name: 'pha', channels: 1 },
  { name: 'fgr', channels: 3 },
];
/** Debugging outputs: used when present, never assumed. */
const OPTIONAL_OUTPUTS: readonly TensorSpec[] = [
  { name: 'err_sm', channels: 1 },
  { name: 'pha_sm', channels: 1 },
  { name: 'fgr_sm', channels: 3 },
  { name: 'ref_sm', channels: 1 },
];

/** What a checked file offers. */
export interface Bgmv2Contract {
  /** Opset of the default ONNX domain the graph was exported with. */
  readonly opset: number;
  /** Output names present in the file, in file order. */
  readonly outputs: readonly string[];
  /** True when the file has `err_sm`, the coarse error map that becomes the `error` plane. */
  readonly hasError: boolean;
}

type Long = { toNumber(): number };
function toInt(v: number | Long | null | undefined): number | undefined {
  if (v === null || v === undefined) return undefined;
  return typeof v === 'number' ? v : v.toNumber();
}

/** Decodes an ONNX file; anything that is not a protobuf ModelProto with a graph is refused. */
export function decodeModel(bytes: Uint8Array, label: string): ModelProto {
  let model: ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (err) {
    const why = messageOf(err);
    throw new ModelContractError(`${label} is not an ONNX model (truncated or another format: ${why})`);
  }
  if (!model.graph || (model.graph.node ?? []).length === 0) {
    throw new ModelContractError(`${label} is not an ONNX model (it has no graph; truncated or another format)`);
  }
  return model;
}

function describeValue(v: OnnxTypes.IValueInfoProto): { elemType?: number; dims?: (number | string)[] } {
  const tensor = v.type?.tensorType;
  if (!tensor) return {};
  const dims = tensor.shape?.dim?.map((d) => toInt(d.dimValue as number | Long | null | undefined) ?? d.dimParam ?? '?');
  return { elemType: tensor.elemType ?? undefined, ...(dims ? { dims } : {}) };
}

/**
 * Checks what a tensor declares. ONNX lets an exporter leave a dimension symbolic or out, or the
 * shape out altogether (PyTorch 1.13 declares the outputs' channels as e.g. `Clippha_dim_1`):
 * those pass here, and loadBgmv2Model checks the real shapes on a probe run. A declared shape
 * that contradicts the contract is refused.
 */
function checkTensor(spec: TensorSpec, v: OnnxTypes.IValueInfoProto, role: string, label: string): void {
  const { elemType, dims } = describeValue(v);
  const want = `float32 (B, ${spec.channels}, H, W)`;
  if (elemType !== FLOAT)
    throw new ModelContractError(`${label}: ${role} "${spec.name}" must be ${want}, but its element type is ${elemType === undefined ? 'not a tensor' : `ONNX type ${elemType}`}`);
  if (!dims) return;
  if (dims.length !== 4) throw new ModelContractError(`${label}: ${role} "${spec.name}" must be ${want} (rank 4, NCHW), but it has rank ${dims.length}`);
  // A literal channel count elsewhere than dimension 1 with none there: a channels-last layout.
  const channelsLast = typeof dims[1] !== 'number' && typeof dims[3] === 'number';
  if ((typeof dims[1] === 'number' && dims[1] !== spec.channels) || channelsLast) {
    throw new ModelContractError(`${label}: ${role} "${spec.name}" must be ${want} (NCHW, channels first), but its shape is (${dims.join(', ')})`);
  }
}

/**
 * Checks a decoded model against the official contract and reports which optional outputs it
 * has. Throws ModelContractError naming the first mismatch.
 */
export function checkBgmv2Contract(model: ModelProto, label: string): Bgmv2Contract {
  const graph = model.graph;
  if (!graph) throw new ModelContractError(`${label} is not an ONNX model (it has no graph)`);
  const opset = toInt(model.opsetImport.find((o) => !o.domain || o.domain === 'ai.onnx')?.version as number | Long | undefined);
  if (opset === undefined || opset < MIN_OPSET) {
    throw new ModelContractError(`${label}: exported with ONNX opset ${opset ?? 'unknown'}; BackgroundMattingV2 exports use opset ${MIN_OPSET} or newer`);
  }
  // Older exporters list initializers among the inputs too; those are weights, not inputs.
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).filter((i) => !weights.has(i.name ?? ''));
  const inputNames = inputs.map((i) => i.name ?? '');
  for (const spec of INPUTS) {
    const v = inputs.find((i) => i.name === spec.name);
    if (!v) throw new ModelContractError(`${label}: expected inputs "src" and "bgr" (BackgroundMattingV2 contract), found ${inputNames.map((n) => `"${n}"`).join(', ') || 'none'}`);
    checkTensor(spec, v, 'input', label);
  }
  const extra = inputNames.filter((n) => !INPUTS.some((s) => s.name === n));
  if (extra.length > 0) throw new ModelContractError(`${label}: unexpected extra inputs ${extra.map((n) => `"${n}"`).join(', ')} (the contract has only "src" and "bgr")`);

  const outputs = graph.output ?? [];
  const outputNames = outputs.map((o) => o.name ?? '');
  for (const spec of REQUIRED_OUTPUTS) {
    const v = outputs.find((o) => o.name === spec.name);
    if (!v) throw new ModelContractError(`${label}: expected outputs "pha" and "fgr" (BackgroundMattingV2 contract), found ${outputNames.map((n) => `"${n}"`).join(', ') || 'none'}`);
    checkTensor(spec, v, 'output', label);
  }
  for (const spec of OPTIONAL_OUTPUTS) {
    const v = outputs.find((o) => o.name === spec.name);
    if (v) checkTensor(spec, v, 'output', label);
  }
  return { opset, outputs: outputNames, hasError: outputNames.includes('err_sm') };
}
