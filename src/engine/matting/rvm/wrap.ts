// Wraps an RVM graph in CleanPlate's 8-bit interface, spliced into one graph as bgmv2 does: uint8
// frame in, uint8 alpha and straight RGBA foreground out, the recurrent state passed straight
// through. Two layouts keep the same names (src, r1i..r4i, downsample_ratio -> fgr, pha,
// r1o..r4o): the authors' official ONNX export (NCHW, downsample_ratio of shape [1], opset 12)
// and the conversion `npm run models:rvm` makes (NHWC as TF, downsample_ratio a scalar); the
// wrapper adapts to whichever the file declares, so the session feeds both alike.
//
// Plate assist (optional, per run): where the user has a clean plate, alpha is cleared where the
// frame and the plate agree over a small neighbourhood (mean of the per-pixel max channel
// difference below ASSIST_LOW, ramping to untouched at ASSIST_HIGH). It can only remove alpha,
// so it suppresses RVM's false positives in the background but cannot fill holes.
import onnxProto from 'onnx-proto';
import { GraphBuilder } from '../onnx/graph-builder.js';
import { clashingNames, decodeWrapper, prefixNames, type ModelProto } from '../onnx/splice.js';
import { cutFastTail, FAST_TAIL } from './fast-tail.js';

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
  /** float32 scalar: the downsample ratio, reshaped to what the model declares. */
  ratio: 'cleanplate_downsample_ratio',
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

/** How the model lays out its tensors: the authors' export (NCHW, ratio [1]) or the TF conversion (NHWC, scalar ratio). */
export interface RvmLayout {
  readonly nchw: boolean;
  readonly ratioRank: 0 | 1;
}

function buildPre(layout: RvmLayout): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_pre');
  const frame = g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']);
  const ratio = g.input(IO.ratio, 'float', []);
  const rgb = g.op('Slice', [frame, g.int64([0]), g.int64([3]), g.int64([3])]);
  const unit = g.unitFromUint8(rgb); // x / 255, as the authors' to_tensor
  if (layout.nchw) g.output('src', g.op('Transpose', [unit], { perm: [0, 3, 1, 2] }), 'float', [1, 3, 'height', 'width']);
  else g.output('src', unit, 'float', [1, 'height', 'width', 3]);
  g.output('downsample_ratio', g.op('Reshape', [ratio, g.int64(layout.ratioRank === 1 ? [1] : [])]), 'float', layout.ratioRank === 1 ? [1] : []);
  return decodeWrapper(g.toBytes());
}

/** The plate-assist gate (1, H, W, 1) in 0..1: 0 where frame and plate agree, built into `b`. */
function plateGate(b: GraphBuilder, frame: string, plate: string): string {
  const unit = (x: string) => b.unitFromUint8(b.op('Slice', [x, b.int64([0]), b.int64([3]), b.int64([3])]));
  // Max over the channels as Max of slices: ReduceMax's axes moved from attribute to input at opset 18.
  const abs = b.op('Abs', [b.op('Sub', [unit(frame), unit(plate)])]);
  const channel = (c: number) => b.op('Slice', [abs, b.int64([c]), b.int64([c + 1]), b.int64([3])]);
  const diff = b.op('Max', [channel(0), channel(1), channel(2)]);
  const nchw = b.op('Transpose', [diff], { perm: [0, 3, 1, 2] });
  const local = b.op('AveragePool', [nchw], { kernel_shape: [ASSIST_WINDOW, ASSIST_WINDOW], strides: [1, 1], auto_pad: 'SAME_UPPER' });
  const ramp = b.op('Div', [b.op('Sub', [local, b.float(ASSIST_LOW)]), b.float(ASSIST_HIGH - ASSIST_LOW)]);
  return b.op('Transpose', [b.op('Clip', [ramp, b.float(0), b.float(1)])], { perm: [0, 2, 3, 1] });
}

function postInputs(g: GraphBuilder) {
  return {
    frame: g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']),
    plate: g.input(IO.plate, 'uint8', [1, 'plate_height', 'plate_width', 'plate_channels']),
    usePlate: g.input(IO.usePlate, 'bool', []),
  };
}

function buildPost(layout: RvmLayout): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_post');
  const { frame, plate, usePlate } = postInputs(g);
  const nhwc = (name: string, channels: number) => {
    if (!layout.nchw) return g.input(name, 'float', [1, 'height', 'width', channels]);
    return g.op('Transpose', [g.input(name, 'float', [1, channels, 'height', 'width'])], { perm: [0, 2, 3, 1] });
  };
  const pha = nhwc('pha', 1);
  const fgr = nhwc('fgr', 3);
  const scale = g.float(ONE_255);
  const zero = g.uint8(0);
  // Built inside the branch, so the plate work runs only when plate assist is on.
  const alpha = g.ifElse(
    usePlate,
    'float',
    [1, 'height', 'width', 1],
    (b) => b.op('Mul', [pha, plateGate(b, frame, plate)]),
    (b) => b.op('Identity', [pha]),
  );
  // QuantizeLinear with scale 1/255 and a uint8 zero point rounds and saturates in one op.
  g.output(IO.alpha, g.op('QuantizeLinear', [alpha, scale, zero]), 'uint8', [1, 'height', 'width', 1]);
  const rgba = g.op('Concat', [fgr, alpha], { axis: 3 });
  g.output(IO.foreground, g.op('QuantizeLinear', [rgba, scale, zero]), 'uint8', [1, 'height', 'width', 4]);
  return decodeWrapper(g.toBytes());
}

/** The fast wrapper's pre: the frame's RGB as 0..255 floats (no full-resolution Div, see fast-tail.ts). */
function buildFastPre(): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_fast_pre');
  const frame = g.input(IO.frame, 'uint8', [1, 'height', 'width', 'frame_channels']);
  const ratio = g.input(IO.ratio, 'float', []);
  const rgb = g.op('Slice', [frame, g.int64([0]), g.int64([3]), g.int64([3])]);
  g.output(FAST_TAIL.rgb255, g.op('Cast', [rgb], { to: 1 }), 'float', [1, 'height', 'width', 3]);
  g.output('downsample_ratio', g.op('Identity', [ratio]), 'float', []);
  return decodeWrapper(g.toBytes());
}

/**
 * The fast wrapper's post: the guided filter applied to the 0..255 guide with the constants
 * folded into the low-resolution coefficients, quantized straight to RGBA (QuantizeLinear's
 * saturation is the clip to [0, 1]); alpha alone, one channel, when no foreground is wanted.
 */
function buildFastPost(): ModelProto['graph'] {
  const g = new GraphBuilder('cleanplate_rvm_fast_post');
  const { frame, plate, usePlate } = postInputs(g);
  const wantForeground = g.input(FAST_TAIL.wantForeground, 'bool', []);
  const rgb255 = g.input(FAST_TAIL.rgb255, 'float', [1, 'height', 'width', 3]);
  const a = g.input(FAST_TAIL.a, 'float', [1, 'low_height', 'low_width', 4]);
  const bias = g.input(FAST_TAIL.b, 'float', [1, 'low_height', 'low_width', 4]);
  const size = g.op('Slice', [g.op('Shape', [frame]), g.int64([1]), g.int64([3])]);
  // fgr = A * s + b + s and pha = A * mean(s) + b with s = rgb255 / 255: (A + 1) / 255 on RGB, A / 765 on the channel sum.
  const coef = g.op('Mul', [g.op('Add', [a, g.float([1, 1, 1, 0])]), g.float([ONE_255, ONE_255, ONE_255, 1 / 765])]);
  const up = (b: GraphBuilder, x: string) => b.op('Resize', [x, '', '', size], { mode: 'linear', coordinate_transformation_mode: 'half_pixel', axes: [1, 2] });
  const channelSum = (b: GraphBuilder) => b.op('ReduceSum', [rgb255, b.int64([3])], { keepdims: 1 });
  const quantize = (b: GraphBuilder, x: string) => b.op('QuantizeLinear', [x, b.float(ONE_255), b.uint8(0)]);
  // Quantized inside each branch, so no branch copies a full-resolution float tensor out.
  const rgba = g.ifElse(
    wantForeground,
    'uint8',
    [1, 'height', 'width', 4],
    (b) => {
      const guide = b.op('Concat', [rgb255, channelSum(b)], { axis: 3 });
      const out = b.op('Add', [b.op('Mul', [up(b, coef), guide]), up(b, bias)]);
      return b.ifElse(
        usePlate,
        'uint8',
        [1, 'height', 'width', 4],
        (c) => {
          const alpha = c.op('Slice', [out, c.int64([3]), c.int64([4]), c.int64([3])]);
          return quantize(c, c.op('Concat', [c.op('Slice', [out, c.int64([0]), c.int64([3]), c.int64([3])]), c.op('Mul', [alpha, plateGate(c, frame, plate)])], { axis: 3 }));
        },
        (c) => quantize(c, out),
      );
    },
    (b) => b.uint8([0, 0, 0, 0], [1, 1, 1, 4]),
  );
  // With the foreground, alpha is its fourth channel: the session reads it from there (a strided
  // Slice in onnxruntime costs more than the copy in JS), and this output is a 1x1 placeholder.
  const alpha = g.ifElse(
    wantForeground,
    'uint8',
    [1, 'height', 'width', 1],
    (b) => b.uint8([0], [1, 1, 1, 1]),
    (b) => {
      const channel = (x: string) => b.op('Slice', [x, b.int64([3]), b.int64([4]), b.int64([3])]);
      const out = b.op('Add', [b.op('Mul', [up(b, channel(coef)), channelSum(b)]), up(b, channel(bias))]);
      return b.ifElse(
        usePlate,
        'uint8',
        [1, 'height', 'width', 1],
        (c) => quantize(c, c.op('Mul', [out, plateGate(c, frame, plate)])),
        (c) => quantize(c, out),
      );
    },
  );
  g.output(IO.alpha, alpha, 'uint8', [1, 'height', 'width', 1]);
  g.output(IO.foreground, rgba, 'uint8', [1, 'height', 'width', 4]);
  return decodeWrapper(g.toBytes());
}

type Long = { toNumber(): number };
const FLOAT = 1;

/** Checks the model's interface and says which layout it has. */
export function checkRvmContract(model: ModelProto, label: string): RvmLayout {
  const graph = model.graph;
  if (!graph) throw new RvmContractError(`${label} has no graph`);
  const weights = new Set((graph.initializer ?? []).map((t) => t.name));
  const declared = (graph.input ?? []).filter((i) => !weights.has(i.name ?? ''));
  const inputs = declared.map((i) => i.name ?? '');
  const outputs = (graph.output ?? []).map((o) => o.name ?? '');
  const missing = [...RVM_INPUTS.filter((n) => !inputs.includes(n)), ...RVM_OUTPUTS.filter((n) => !outputs.includes(n))];
  if (missing.length > 0 || inputs.length !== RVM_INPUTS.length) {
    throw new RvmContractError(
      `${label} is neither the authors' RVM ONNX export nor a conversion made by "npm run models:rvm": inputs [${inputs.join(', ')}], outputs [${outputs.join(', ')}] (expected inputs [${RVM_INPUTS.join(', ')}], outputs [${RVM_OUTPUTS.join(', ')}])`,
    );
  }
  const tensor = (name: string) => declared.find((i) => i.name === name)?.type?.tensorType;
  const dims = (name: string) =>
    tensor(name)?.shape?.dim?.map((d) => (d.dimValue === null || d.dimValue === undefined ? d.dimParam || '?' : typeof d.dimValue === 'number' ? d.dimValue : (d.dimValue as Long).toNumber()));
  const src = tensor('src');
  if (src?.elemType !== FLOAT) {
    throw new RvmContractError(
      `${label}: input "src" must be float32, but its element type is ONNX type ${src?.elemType ?? 'unknown'}${src?.elemType === 10 ? ' (a float16 export: use the fp32 file, rvm_mobilenetv3_fp32.onnx)' : ''}`,
    );
  }
  const s = dims('src');
  const nchw = s?.length === 4 && s[1] === 3;
  if (!nchw && !(s?.length === 4 && s[3] === 3)) {
    throw new RvmContractError(`${label}: input "src" must be (B, 3, H, W) as the authors export it or (1, H, W, 3) as "npm run models:rvm" converts it, but its shape is (${(s ?? []).join(', ')})`);
  }
  const r = dims('downsample_ratio');
  if (tensor('downsample_ratio')?.elemType !== FLOAT || (r !== undefined && r.length > 1) || (r?.length === 1 && r[0] !== 1)) {
    throw new RvmContractError(
      `${label}: input "downsample_ratio" must be a float32 scalar or of shape [1], but it is declared as ONNX type ${tensor('downsample_ratio')?.elemType} of shape (${(r ?? []).join(', ')})`,
    );
  }
  const clash = clashingNames(graph, [...Object.values(IO), ...Object.values(FAST_TAIL)], PREFIX);
  if (clash.length > 0) throw new RvmContractError(`${label} already uses the name "${clash[0]}", which CleanPlate's wrapper needs`);
  return { nchw, ratioRank: r?.length === 1 ? 1 : 0 };
}

export interface WrapOptions {
  /** Rewrite the converted graph's full-resolution stage (fast-tail.ts); default true. False keeps the graph as converted (benchmarks compare the two). */
  readonly fastTail?: boolean;
}

/** The model with the 8-bit wrapper spliced in, ready for onnxruntime. */
export function wrapRvm(model: ModelProto, label: string, options: WrapOptions = {}): Uint8Array {
  const layout = checkRvmContract(model, label);
  const graph = model.graph!;
  const fast = !layout.nchw && (options.fastTail ?? true) && cutFastTail(graph);
  const shared = fast ? new Set([...SHARED, ...Object.values(FAST_TAIL)]) : SHARED;
  const pre = prefixNames((fast ? buildFastPre() : buildPre(layout))!, PREFIX, 'pre', shared);
  const post = prefixNames((fast ? buildFastPost() : buildPost(layout))!, PREFIX, 'post', shared);
  const made = new Set([IO.frame, 'pha', 'fgr', FAST_TAIL.rgb255, FAST_TAIL.a, FAST_TAIL.b]);
  const own = (graph.input ?? []).filter((i) => i.name !== 'src' && i.name !== 'downsample_ratio');
  const state = (graph.output ?? []).filter((o) => (RVM_STATE_OUT as readonly string[]).includes(o.name ?? ''));
  const postInputs = (post.input ?? []).filter((i) => !made.has(i.name ?? ''));
  graph.input = [...(pre.input ?? []), ...postInputs, ...own];
  graph.output = [...(post.output ?? []), ...state];
  graph.node = [...(pre.node ?? []), ...(graph.node ?? []), ...(post.node ?? [])];
  graph.initializer = [...(graph.initializer ?? []), ...(pre.initializer ?? []), ...(post.initializer ?? [])];
  model.producerName = `${model.producerName || 'unknown'} + cleanplate`;
  return onnx.ModelProto.encode(model).finish();
}
