// Wraps the converted RVM graph (models/rvm.onnx, float NHWC in and out) in CleanPlate's 8-bit
// interface, spliced into one graph as bgmv2 does: uint8 frame in, uint8 alpha and straight RGBA
// foreground out, the recurrent state and downsample ratio passed straight through.
//
// Plate assist (optional, per run): where the user has a clean plate, alpha is cleared where the
// frame and the plate agree over a small neighbourhood (mean of the per-pixel max channel
// difference below ASSIST_LOW, ramping to untouched at ASSIST_HIGH). It can only remove alpha,
// so it suppresses RVM's false positives in the background but cannot fill holes.
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { clashingNames, decodeWrapper, prefixNames, type ModelProto } from '../onnx/splice.js';

const { onnx } = onnxProto;

/** The converted model's own inputs and outputs (npm run models:rvm writes them so). */
export const RVM_INPUTS = ['src', 'r1i', 'r2i', 'r3i', 'r4i', 'downsample_ratio'] as const;
export const RVM_OUTPUTS = ['fgr', 'pha', 'r1o', 'r2o', 'r3o', 'r4o'] as const;
export const RVM_STATE_IN = ['r1i', 'r2i', 'r3i', 'r4i'] as const;
export const RVM_STATE_OUT = ['r1o', 'r2o', 'r3o', 'r4o'] as const;

export const IO = {
  /** uint8 (1, H, W, C), RGB or RGBA (alpha ignored). */
  frame: 'cleanplate_frame_u8',
  /** uint8 (1, H, W, C): the clean plate, or any 1x1 image when use_plate is false. */
  plate: 'cleanplate_plate_u8',
  /** bool scalar: apply plate assist. */
  usePlate: 'cleanplate_use_plate',
  /** uint8 (1, H, W, 1). */
  alpha: 'cleanplate_alpha_u8',
  /** uint8 (1, H, W, 4): straight-alpha RGBA. */
  foreground: 'cleanplate_foreground_u8',
} as const;

/** Plate assist thresholds on the 5x5 mean of max-channel |frame - plate| (0..1). */
export const ASSIST_LOW = 6 / 255;
export const ASSIST_HIGH = 16 / 255;
const ASSIST_WINDOW = 5;

const PREFIX = 'cleanplate/';
const SHARED = new Set<string>([...Object.values(IO), ...RVM_INPUTS, ...RVM_OUTPUTS]);
const ONE_255 = 1 / 255;

export class RvmContractError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RvmContractError';
  }
}

function buildPre(): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_pre');
  const frame = g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']);
  const rgb = g.op('Slice', [frame, g.int64([0]), g.int64([3]), g.int64([3])]);
  g.output('src', g.unitFromUint8(rgb), 'float', [1, 'height', 'width', 3]);
  return decodeWrapper(g.toBytes());
}

function buildPost(): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_post');
  const frame = g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']);
  const plate = g.input(IO.plate, 'uint8', [1, 'plate_height', 'plate_width', 'plate_channels']);
  const usePlate = g.input(IO.usePlate, 'bool', []);
  const pha = g.input('pha', 'float', [1, 'height', 'width', 1]);
  const fgr = g.input('fgr', 'float', [1, 'height', 'width', 3]);
  const scale = g.float(ONE_255);
  const zero = g.uint8(0);
  // Built inside the branch, so the plate work runs only when plate assist is on.
  const unit = (b: GraphBuilder, x: string) => b.unitFromUint8(b.op('Slice', [x, b.int64([0]), b.int64([3]), b.int64([3])]));

  const alpha = g.ifElse(
    usePlate,
    'float',
    [1, 'height', 'width', 1],
    (b) => {
      const diff = b.op('ReduceMax', [b.op('Abs', [b.op('Sub', [unit(b, frame), unit(b, plate)])]), b.int64([3])], { keepdims: 1 });
      const nchw = b.op('Transpose', [diff], { perm: [0, 3, 1, 2] });
      const local = b.op('AveragePool', [nchw], { kernel_shape: [ASSIST_WINDOW, ASSIST_WINDOW], strides: [1, 1], auto_pad: 'SAME_UPPER' });
      const ramp = b.op('Div', [b.op('Sub', [local, b.float(ASSIST_LOW)]), b.float(ASSIST_HIGH - ASSIST_LOW)]);
      const gate = b.op('Transpose', [b.op('Clip', [ramp, b.float(0), b.float(1)])], { perm: [0, 2, 3, 1] });
      return b.op('Mul', [pha, gate]);
    },
    (b) => b.op('Identity', [pha]),
  );
  // QuantizeLinear with scale 1/255 and a uint8 zero point rounds and saturates in one op.
  g.output(IO.alpha, g.op('QuantizeLinear', [alpha, scale, zero]), 'uint8', [1, 'height', 'width', 1]);
  const rgba = g.op('Concat', [fgr, alpha], { axis: 3 });
  g.output(IO.foreground, g.op('QuantizeLinear', [rgba, scale, zero]), 'uint8', [1, 'height', 'width', 4]);
  return decodeWrapper(g.toBytes());
}

/** Checks the converted model's interface. */
export function checkRvmContract(model: ModelProto, label: string): void {
  const graph = model.graph;
  if (!graph) throw new RvmContractError(`${label} has no graph`);
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const inputs = (graph.input ?? []).map((i) => i.name ?? '').filter((n) => !weights.has(n));
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  const missing = [...RVM_INPUTS.filter((n) => !inputs.includes(n)), ...RVM_OUTPUTS.filter((n) => !outputs.includes(n))];
  if (missing.length > 0 || inputs.length !== RVM_INPUTS.length) {
    throw new RvmContractError(`${label} is not an RVM conversion made by "npm run models:rvm": inputs [${inputs.join(', ')}], outputs [${outputs.join(', ')}]`);
  }
  const clash = clashingNames(graph, Object.values(IO), PREFIX);
  if (clash.length > 0) throw new RvmContractError(`${label} already uses the name "${clash[0]}", which CleanPlate's wrapper needs`);
}

/** The converted model with the 8-bit wrapper spliced in, ready for onnxruntime. */
export function wrapRvm(model: ModelProto, label: string): Uint8Array {
  checkRvmContract(model, label);
  const graph = model.graph!;
  const pre = prefixNames(buildPre()!, PREFIX, 'pre', SHARED);
  const post = prefixNames(buildPost()!, PREFIX, 'post', SHARED);
  const own = (graph.input ?? []).filter((i) => i.name !== 'src');
  const state = (graph.output ?? []).filter((o) => (RVM_STATE_OUT as readonly string[]).includes(o.name ?? ''));
  const postInputs = (post.input ?? []).filter((i) => i.name !== IO.frame && i.name !== 'pha' && i.name !== 'fgr');
  graph.input = [...(pre.input ?? []), ...postInputs, ...own];
  graph.output = [...(post.output ?? []), ...state];
  graph.node = [...(pre.node ?? []), ...(graph.node ?? []), ...(post.node ?? [])];
  graph.initializer = [...(graph.initializer ?? []), ...(pre.initializer ?? []), ...(post.initializer ?? [])];
  model.producerName = `${model.producerName || 'unknown'} + cleanplate`;
  return onnx.ModelProto.encode(model).finish();
}
