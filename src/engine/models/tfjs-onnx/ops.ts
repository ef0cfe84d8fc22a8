// TF op -> ONNX nodes, one mapper per op (or family). Values stay in TF's layout (NHWC) and TF's
// dtypes (shape arithmetic in int32, as TF does it); ONNX inputs that must be int64 (Slice,
// Expand, Pad, Resize sizes, Reshape) get a Cast, or an int64 initializer when the value is a
// constant. Operators ONNX defines on NCHW only (Conv, pooling) are wrapped in Transposes.
import type { GraphBuilder } from '../../matting/onnx/graph-builder.js';
import { tfType, type Val } from './values.js';
import { TfjsFormatError, type TfDtype, type TfNode } from './model-json.js';

export interface OpContext {
  readonly g: GraphBuilder;
  readonly node: TfNode;
  readonly inputs: readonly Val[];
  /** The ONNX value name of a converted value (materialises constants). */
  name(v: Val): string;
}

/** Stands for "to the end" in Slice ends: ONNX clamps it to the dimension. */
const BIG = 2147483647;
const TO_NCHW = [0, 3, 1, 2];
const TO_NHWC = [0, 2, 3, 1];

// ---- attribute and constant readers ---------------------------------------------------------

function fail(ctx: OpContext, what: string): never {
  throw new TfjsFormatError(`${ctx.node.op} ${ctx.node.name}: ${what}`);
}

const decode = (s: string) => Buffer.from(s, 'base64').toString('utf8');

function attrInt(ctx: OpContext, key: string, fallback: number): number {
  const v = ctx.node.attr?.[key]?.i;
  return v === undefined ? fallback : Number(v);
}

function attrInts(ctx: OpContext, key: string): number[] | undefined {
  const list = ctx.node.attr?.[key]?.list;
  return list ? (list.i ?? []).map(Number) : undefined;
}

function attrString(ctx: OpContext, key: string): string | undefined {
  const s = ctx.node.attr?.[key]?.s;
  return s === undefined ? undefined : decode(s);
}

function attrStrings(ctx: OpContext, key: string): string[] {
  return (ctx.node.attr?.[key]?.list?.s ?? []).map(decode);
}

function attrBool(ctx: OpContext, key: string): boolean {
  return ctx.node.attr?.[key]?.b === true;
}

function input(ctx: OpContext, i: number): Val {
  const v = ctx.inputs[i];
  if (!v) fail(ctx, `needs input ${i}`);
  return v;
}

/** A constant integer input as numbers (axes, block shapes, begin/end of StridedSlice...). */
function constInts(ctx: OpContext, i: number, what: string): number[] {
  const t = input(ctx, i).tensor;
  if (!t || t.dtype === 'float32') fail(ctx, `${what} must be a constant integer tensor`);
  return Array.from(t.data as Int32Array);
}

function checkNhwc(ctx: OpContext): void {
  const format = attrString(ctx, 'data_format');
  if (format !== undefined && format !== 'NHWC') fail(ctx, `data_format ${format} is not supported (only NHWC)`);
}

// ---- small graph helpers -------------------------------------------------------------------

function val(dtype: TfDtype, name: string): Val {
  return { dtype, name };
}

/** An int64 version of an integer value, for ONNX inputs that demand int64. */
function int64(ctx: OpContext, v: Val): string {
  if (v.tensor) return ctx.g.int64(Array.from(v.tensor.data as Int32Array), [...v.tensor.shape]);
  return ctx.g.op('Cast', [ctx.name(v)], { to: 7 });
}

/** An int64 1-D vector of an integer value (TF accepts scalar axes where ONNX wants a vector). */
function int64Vector(ctx: OpContext, v: Val): string {
  if (v.tensor) return ctx.g.int64(Array.from(v.tensor.data as Int32Array));
  return ctx.g.op('Reshape', [int64(ctx, v), ctx.g.int64([-1])]);
}

function shapeOf(ctx: OpContext, x: string): string {
  return ctx.g.op('Shape', [x]);
}

/** Elements [start, end) of an int64 vector. */
function slice1d(ctx: OpContext, v: string, start: number, end: number): string {
  return ctx.g.op('Slice', [v, ctx.g.int64([start]), ctx.g.int64([end]), ctx.g.int64([0])]);
}

// ---- mappers ---------------------------------------------------------------------------------

type Mapper = (ctx: OpContext) => Val[];

function unary(onnxOp: string, attrs: Record<string, number> = {}): Mapper {
  return (ctx) => {
    const x = input(ctx, 0);
    return [val(x.dtype, ctx.g.op(onnxOp, [ctx.name(x)], attrs))];
  };
}

function binary(onnxOp: string, resultBool = false): Mapper {
  return (ctx) => {
    const a = input(ctx, 0);
    const b = input(ctx, 1);
    return [val(resultBool ? 'bool' : a.dtype, ctx.g.op(onnxOp, [ctx.name(a), ctx.name(b)]))];
  };
}

/** Minimum/Maximum; against a scalar constant as Clip, which onnxruntime runs far faster than a broadcasting Min/Max. */
function minMax(onnxOp: 'Min' | 'Max'): Mapper {
  const plain = binary(onnxOp);
  return (ctx) => {
    const a = input(ctx, 0);
    const b = input(ctx, 1);
    const scalar = (v: Val) => v.tensor?.dtype === 'float32' && v.tensor.shape.length === 0;
    const [x, c] = scalar(b) && !scalar(a) ? [a, b] : scalar(a) && !scalar(b) ? [b, a] : [undefined, undefined];
    if (!x || !c || x.dtype !== 'float32') return plain(ctx);
    const bound = ctx.g.float(c.tensor!.data[0]!);
    return [val('float32', ctx.g.op('Clip', onnxOp === 'Min' ? [ctx.name(x), '', bound] : [ctx.name(x), bound]))];
  };
}

function relu6(ctx: OpContext, x: string): string {
  return ctx.g.op('Clip', [x, ctx.g.float(0), ctx.g.float(6)]);
}

/** The activation a fused TF conv applies after its bias. */
function fusedActivation(ctx: OpContext, op: string, x: string): string {
  switch (op) {
    case 'Relu':
      return ctx.g.op('Relu', [x]);
    case 'Relu6':
      return relu6(ctx, x);
    case 'Sigmoid':
      return ctx.g.op('Sigmoid', [x]);
    case 'Tanh':
      return ctx.g.op('Tanh', [x]);
    case 'LeakyRelu':
      return ctx.g.op('LeakyRelu', [x], { alpha: { float: ctx.node.attr?.leakyrelu_alpha?.f ?? 0.2 } });
    default:
      return fail(ctx, `fused op ${op} is not supported`);
  }
}

/** ONNX auto_pad / pads for TF's padding attribute (SAME pads the extra pixel at the end, as SAME_UPPER). */
function padAttrs(ctx: OpContext): Record<string, string | number[]> {
  const padding = attrString(ctx, 'padding') ?? 'VALID';
  if (padding === 'SAME') return { auto_pad: 'SAME_UPPER' };
  if (padding === 'VALID') return { auto_pad: 'VALID' };
  if (padding === 'EXPLICIT') {
    const p = attrInts(ctx, 'explicit_paddings') ?? [];
    return { pads: [p[2] ?? 0, p[4] ?? 0, p[3] ?? 0, p[5] ?? 0] };
  }
  return fail(ctx, `padding ${padding} is not supported`);
}

/** Conv2D / DepthwiseConv2dNative and their fused forms: NHWC in and out, NCHW Conv inside. */
function conv(depthwise: boolean): Mapper {
  return (ctx) => {
    checkNhwc(ctx);
    const filter = input(ctx, 1).tensor;
    if (!filter || filter.dtype !== 'float32' || filter.shape.length !== 4) fail(ctx, 'the filter must be a constant 4-D float tensor');
    const [kh, kw, cin, m] = filter.shape as [number, number, number, number];
    const src = filter.data as Float32Array;
    // HWIO -> OIHW; depthwise HW(C)(M) -> (C*M)1HW with output channel c*M + m, as TF orders them.
    const outChannels = depthwise ? cin * m : m;
    const w = new Float32Array(src.length);
    for (let y = 0; y < kh; y++) {
      for (let x = 0; x < kw; x++) {
        for (let i = 0; i < cin; i++) {
          for (let o = 0; o < m; o++) {
            const from = ((y * kw + x) * cin + i) * m + o;
            const to = depthwise ? ((i * m + o) * kh + y) * kw + x : ((o * cin + i) * kh + y) * kw + x;
            w[to] = src[from]!;
          }
        }
      }
    }
    const weights = ctx.g.raw('float', w, depthwise ? [outChannels, 1, kh, kw] : [outChannels, cin, kh, kw], 'conv_w');
    const fused = attrStrings(ctx, 'fused_ops');
    const inputs = [ctx.g.op('Transpose', [ctx.name(input(ctx, 0))], { perm: TO_NCHW }), weights];
    let rest = fused;
    if (fused[0] === 'BiasAdd') {
      inputs.push(ctx.name(input(ctx, 2)));
      rest = fused.slice(1);
    } else if (fused.length > 0) {
      fail(ctx, `fused ops [${fused.join(', ')}] are not supported (BiasAdd first is)`);
    }
    const strides = attrInts(ctx, 'strides') ?? [1, 1, 1, 1];
    const dilations = attrInts(ctx, 'dilations') ?? [1, 1, 1, 1];
    let y = ctx.g.op('Conv', inputs, {
      kernel_shape: [kh, kw],
      strides: [strides[1]!, strides[2]!],
      dilations: [dilations[1]!, dilations[2]!],
      group: depthwise ? cin : 1,
      ...padAttrs(ctx),
    });
    for (const op of rest) y = fusedActivation(ctx, op, y);
    return [val('float32', ctx.g.op('Transpose', [y], { perm: TO_NHWC }))];
  };
}

function pool(onnxOp: 'AveragePool' | 'MaxPool'): Mapper {
  return (ctx) => {
    checkNhwc(ctx);
    const k = attrInts(ctx, 'ksize') ?? [];
    const s = attrInts(ctx, 'strides') ?? [];
    if (k[0] !== 1 || k[3] !== 1 || s[0] !== 1 || s[3] !== 1) fail(ctx, 'pooling across batch or channels is not supported');
    const x = ctx.g.op('Transpose', [ctx.name(input(ctx, 0))], { perm: TO_NCHW });
    // TF's SAME average excludes the padding from the count, as ONNX's count_include_pad=0.
    const y = ctx.g.op(onnxOp, [x], { kernel_shape: [k[1]!, k[2]!], strides: [s[1]!, s[2]!], ...padAttrs(ctx) });
    return [val('float32', ctx.g.op('Transpose', [y], { perm: TO_NHWC }))];
  };
}

const resizeBilinear: Mapper = (ctx) => {
  const alignCorners = attrBool(ctx, 'align_corners');
  const halfPixel = attrBool(ctx, 'half_pixel_centers');
  // TF's three coordinate rules map one to one onto ONNX's.
  const mode = alignCorners ? 'align_corners' : halfPixel ? 'half_pixel' : 'asymmetric';
  const x = ctx.name(input(ctx, 0));
  const y = ctx.g.op('Resize', [x, '', '', int64(ctx, input(ctx, 1))], { mode: 'linear', coordinate_transformation_mode: mode, axes: [1, 2] });
  return [val('float32', y)];
};

const stridedSlice: Mapper = (ctx) => {
  const begin = constInts(ctx, 1, 'begin');
  const end = constInts(ctx, 2, 'end');
  const strides = constInts(ctx, 3, 'strides');
  const beginMask = attrInt(ctx, 'begin_mask', 0);
  const endMask = attrInt(ctx, 'end_mask', 0);
  const shrinkMask = attrInt(ctx, 'shrink_axis_mask', 0);
  if (attrInt(ctx, 'ellipsis_mask', 0) !== 0 || attrInt(ctx, 'new_axis_mask', 0) !== 0) fail(ctx, 'ellipsis_mask and new_axis_mask are not supported');
  const starts: number[] = [];
  const ends: number[] = [];
  const steps: number[] = [];
  const shrink: number[] = [];
  begin.forEach((b0, i) => {
    const step = strides[i] ?? 1;
    if (step === 0) fail(ctx, 'a stride of 0');
    const bit = 1 << i;
    let b = b0;
    let e = end[i]!;
    if (beginMask & bit) b = step > 0 ? 0 : BIG;
    if (endMask & bit) e = step > 0 ? BIG : -BIG;
    if (shrinkMask & bit) {
      e = b === -1 ? BIG : b + 1;
      shrink.push(i);
    }
    starts.push(b);
    ends.push(e);
    steps.push(shrinkMask & bit ? 1 : step);
  });
  const x = input(ctx, 0);
  const axes = begin.map((_, i) => i);
  let y = ctx.g.op('Slice', [ctx.name(x), ctx.g.int64(starts), ctx.g.int64(ends), ctx.g.int64(axes), ctx.g.int64(steps)]);
  if (shrink.length > 0) y = ctx.g.op('Squeeze', [y, ctx.g.int64(shrink)]);
  return [val(x.dtype, y)];
};

/** TF Slice(x, begin, size): size -1 means "to the end". */
const tfSlice: Mapper = (ctx) => {
  const x = input(ctx, 0);
  const begin = input(ctx, 1);
  const size = input(ctx, 2);
  let starts: string;
  let ends: string;
  if (begin.tensor && size.tensor) {
    const b = Array.from(begin.tensor.data as Int32Array);
    const s = Array.from(size.tensor.data as Int32Array);
    starts = ctx.g.int64(b);
    ends = ctx.g.int64(b.map((v, i) => (s[i] === -1 ? BIG : v + s[i]!)));
  } else {
    starts = int64(ctx, begin);
    const s = int64(ctx, size);
    ends = ctx.g.op('Where', [ctx.g.op('Equal', [s, ctx.g.int64(-1)]), ctx.g.int64(BIG), ctx.g.op('Add', [starts, s])]);
  }
  return [val(x.dtype, ctx.g.op('Slice', [ctx.name(x), starts, ends]))];
};

const pack: Mapper = (ctx) => {
  const axis = attrInt(ctx, 'axis', 0);
  const parts = ctx.inputs.map((v) => ctx.g.op('Unsqueeze', [ctx.name(v), ctx.g.int64([axis])]));
  return [val(input(ctx, 0).dtype, parts.length === 1 ? parts[0]! : ctx.g.op('Concat', parts, { axis }))];
};

const concat: Mapper = (ctx) => {
  const n = ctx.inputs.length - 1;
  const [axis] = constInts(ctx, n, 'axis');
  const parts = ctx.inputs.slice(0, n).map((v) => ctx.name(v));
  return [val(input(ctx, 0).dtype, parts.length === 1 ? ctx.g.op('Identity', parts) : ctx.g.op('Concat', parts, { axis: axis! }))];
};

const split: Mapper = (ctx) => {
  const [axis] = constInts(ctx, 0, 'split_dim');
  const n = attrInt(ctx, 'num_split', 1);
  const x = input(ctx, 1);
  return ctx.g.opN('Split', [ctx.name(x)], n, { axis: axis!, num_outputs: n }).map((name) => val(x.dtype, name));
};

const splitV: Mapper = (ctx) => {
  const x = input(ctx, 0);
  const sizes = constInts(ctx, 1, 'size_splits');
  const [axis] = constInts(ctx, 2, 'split_dim');
  let splits: string;
  const unknown = sizes.indexOf(-1);
  if (unknown < 0) {
    splits = ctx.g.int64(sizes);
  } else {
    // One size is "the rest": the axis length minus the others, known only at run time.
    const dims = shapeOf(ctx, ctx.name(x));
    const a = axis! < 0 ? ctx.g.op('Add', [ctx.g.op('Size', [dims]), ctx.g.int64([axis!])]) : ctx.g.int64([axis!]);
    const length = ctx.g.op('Gather', [dims, a]);
    const known = sizes.reduce((s, v) => (v === -1 ? s : s + v), 0);
    const rest = ctx.g.op('Sub', [length, ctx.g.int64([known])]);
    const before = sizes.slice(0, unknown);
    const after = sizes.slice(unknown + 1);
    splits = ctx.g.op('Concat', [...(before.length ? [ctx.g.int64(before)] : []), rest, ...(after.length ? [ctx.g.int64(after)] : [])], { axis: 0 });
  }
  return ctx.g.opN('Split', [ctx.name(x), splits], sizes.length, { axis: axis! }).map((name) => val(x.dtype, name));
};

function reduce(onnxOp: string): Mapper {
  return (ctx) => {
    const x = input(ctx, 0);
    const axes = int64Vector(ctx, input(ctx, 1));
    return [val(x.dtype, ctx.g.op(onnxOp, [ctx.name(x), axes], { keepdims: attrBool(ctx, 'keep_dims') ? 1 : 0 }))];
  };
}

/** TF paddings [rank, 2] -> ONNX pads [begin..., end...]. */
function onnxPads(ctx: OpContext, paddings: Val): string {
  if (paddings.tensor) {
    const p = Array.from(paddings.tensor.data as Int32Array);
    const rank = p.length / 2;
    return ctx.g.int64([...Array.from({ length: rank }, (_, i) => p[2 * i]!), ...Array.from({ length: rank }, (_, i) => p[2 * i + 1]!)]);
  }
  return ctx.g.op('Reshape', [ctx.g.op('Transpose', [int64(ctx, paddings)], { perm: [1, 0] }), ctx.g.int64([-1])]);
}

const pad: Mapper = (ctx) => {
  const x = input(ctx, 0);
  const inputs = [ctx.name(x), onnxPads(ctx, input(ctx, 1))];
  if (ctx.node.op === 'PadV2') inputs.push(ctx.name(input(ctx, 2)));
  return [val(x.dtype, ctx.g.op('Pad', inputs, { mode: 'constant' }))];
};

const cast: Mapper = (ctx) => {
  const x = input(ctx, 0);
  const to = tfType(ctx.node.attr?.DstT?.type, ctx.node.name);
  const code = { float32: 1, int32: 6, bool: 9 }[to];
  return [val(to, ctx.g.op('Cast', [ctx.name(x)], { to: code }))];
};

const shape: Mapper = (ctx) => {
  const outType = ctx.node.attr?.out_type?.type ?? 'DT_INT32';
  if (outType !== 'DT_INT32') fail(ctx, `out_type ${outType} is not supported`);
  return [val('int32', ctx.g.op('Cast', [shapeOf(ctx, ctx.name(input(ctx, 0)))], { to: 6 }))];
};

const squeeze: Mapper = (ctx) => {
  const x = input(ctx, 0);
  const dims = attrInts(ctx, 'squeeze_dims') ?? [];
  const inputs = [ctx.name(x), ...(dims.length > 0 ? [ctx.g.int64(dims)] : [])];
  return [val(x.dtype, ctx.g.op('Squeeze', inputs))];
};

const floorMod: Mapper = (ctx) => {
  const a = input(ctx, 0);
  const b = input(ctx, 1);
  if (a.dtype === 'float32') {
    // a - floor(a / b) * b: TF's floored modulo (ONNX Mod with fmod=0 is integers only).
    const q = ctx.g.op('Floor', [ctx.g.op('Div', [ctx.name(a), ctx.name(b)])]);
    return [val('float32', ctx.g.op('Sub', [ctx.name(a), ctx.g.op('Mul', [q, ctx.name(b)])]))];
  }
  return [val(a.dtype, ctx.g.op('Mod', [ctx.name(a), ctx.name(b)], { fmod: 0 }))];
};

/** The constant two-element block shape of SpaceToBatchND / BatchToSpaceND. */
function blockShape(ctx: OpContext): [number, number] {
  const block = constInts(ctx, 1, 'block_shape');
  if (block.length !== 2) fail(ctx, 'only 2-D block shapes (images) are supported');
  return [block[0]!, block[1]!];
}

/** SpaceToBatchND on NHWC: pad, then fold each b0 x b1 phase of the image into the batch. */
const spaceToBatch: Mapper = (ctx) => {
  const { g } = ctx;
  const x = input(ctx, 0);
  const [b0, b1] = blockShape(ctx);
  const p = int64(ctx, input(ctx, 2)); // [[top, bottom], [left, right]]
  const flat = g.op('Reshape', [g.op('Transpose', [p], { perm: [1, 0] }), g.int64([-1])]); // top, left, bottom, right
  const zero = g.int64([0]);
  const pads = g.op('Concat', [zero, slice1d(ctx, flat, 0, 2), zero, zero, slice1d(ctx, flat, 2, 4), zero], { axis: 0 });
  const padded = g.op('Pad', [ctx.name(x), pads], { mode: 'constant' });
  const dims = shapeOf(ctx, padded);
  const n = slice1d(ctx, dims, 0, 1);
  const h = g.op('Div', [slice1d(ctx, dims, 1, 2), g.int64([b0])]);
  const w = g.op('Div', [slice1d(ctx, dims, 2, 3), g.int64([b1])]);
  const c = slice1d(ctx, dims, 3, 4);
  const split = g.op('Reshape', [padded, g.op('Concat', [n, h, g.int64([b0]), w, g.int64([b1]), c], { axis: 0 })]);
  // Output batch index is (phase_y * b1 + phase_x) * N + n, as in TF.
  const moved = g.op('Transpose', [split], { perm: [2, 4, 0, 1, 3, 5] });
  const batch = g.op('Mul', [n, g.int64([b0 * b1])]);
  return [val(x.dtype, g.op('Reshape', [moved, g.op('Concat', [batch, h, w, c], { axis: 0 })]))];
};

/** BatchToSpaceND on NHWC: the inverse interleave, then crop. */
const batchToSpace: Mapper = (ctx) => {
  const { g } = ctx;
  const x = input(ctx, 0);
  const [b0, b1] = blockShape(ctx);
  const crops = int64(ctx, input(ctx, 2)); // [[top, bottom], [left, right]]
  const dims = shapeOf(ctx, ctx.name(x));
  const n = g.op('Div', [slice1d(ctx, dims, 0, 1), g.int64([b0 * b1])]);
  const h = slice1d(ctx, dims, 1, 2);
  const w = slice1d(ctx, dims, 2, 3);
  const c = slice1d(ctx, dims, 3, 4);
  const split = g.op('Reshape', [ctx.name(x), g.op('Concat', [g.int64([b0, b1]), n, h, w, c], { axis: 0 })]);
  const moved = g.op('Transpose', [split], { perm: [2, 3, 0, 4, 1, 5] });
  const fullH = g.op('Mul', [h, g.int64([b0])]);
  const fullW = g.op('Mul', [w, g.int64([b1])]);
  const full = g.op('Reshape', [moved, g.op('Concat', [n, fullH, fullW, c], { axis: 0 })]);
  const flat = g.op('Reshape', [crops, g.int64([-1])]); // top, bottom, left, right
  const starts = g.op('Concat', [slice1d(ctx, flat, 0, 1), slice1d(ctx, flat, 2, 3)], { axis: 0 });
  const ends = g.op('Sub', [g.op('Concat', [fullH, fullW], { axis: 0 }), g.op('Concat', [slice1d(ctx, flat, 1, 2), slice1d(ctx, flat, 3, 4)], { axis: 0 })]);
  return [val(x.dtype, g.op('Slice', [full, starts, ends, g.int64([1, 2])]))];
};

const MAPPERS: Record<string, Mapper> = {
  Add: binary('Add'),
  AddV2: binary('Add'),
  Sub: binary('Sub'),
  Mul: binary('Mul'),
  RealDiv: binary('Div'),
  Minimum: minMax('Min'),
  Maximum: minMax('Max'),
  Pow: binary('Pow'),
  Equal: binary('Equal', true),
  Less: binary('Less', true),
  Greater: binary('Greater', true),
  FloorMod: floorMod,
  Square: (ctx) => {
    const x = ctx.name(input(ctx, 0));
    return [val(input(ctx, 0).dtype, ctx.g.op('Mul', [x, x]))];
  },
  Relu: unary('Relu'),
  Relu6: (ctx) => [val('float32', relu6(ctx, ctx.name(input(ctx, 0))))],
  Sigmoid: unary('Sigmoid'),
  Tanh: unary('Tanh'),
  Sqrt: unary('Sqrt'),
  Rsqrt: (ctx) => [val('float32', ctx.g.op('Reciprocal', [ctx.g.op('Sqrt', [ctx.name(input(ctx, 0))])]))],
  Exp: unary('Exp'),
  Neg: unary('Neg'),
  Abs: unary('Abs'),
  Floor: unary('Floor'),
  Cast: cast,
  Shape: shape,
  StridedSlice: stridedSlice,
  Slice: tfSlice,
  Pack: pack,
  ConcatV2: concat,
  Split: split,
  SplitV: splitV,
  Squeeze: squeeze,
  Mean: reduce('ReduceMean'),
  Sum: reduce('ReduceSum'),
  Max: reduce('ReduceMax'),
  Pad: pad,
  PadV2: pad,
  BroadcastTo: (ctx) => {
    const x = input(ctx, 0);
    return [val(x.dtype, ctx.g.op('Expand', [ctx.name(x), int64(ctx, input(ctx, 1))]))];
  },
  Reshape: (ctx) => {
    const x = input(ctx, 0);
    return [val(x.dtype, ctx.g.op('Reshape', [ctx.name(x), int64(ctx, input(ctx, 1))], { allowzero: 1 }))];
  },
  Transpose: (ctx) => {
    const x = input(ctx, 0);
    return [val(x.dtype, ctx.g.op('Transpose', [ctx.name(x)], { perm: constInts(ctx, 1, 'perm') }))];
  },
  ExpandDims: (ctx) => {
    const x = input(ctx, 0);
    return [val(x.dtype, ctx.g.op('Unsqueeze', [ctx.name(x), int64Vector(ctx, input(ctx, 1))]))];
  },
  Conv2D: conv(false),
  _FusedConv2D: conv(false),
  DepthwiseConv2dNative: conv(true),
  FusedDepthwiseConv2dNative: conv(true),
  AvgPool: pool('AveragePool'),
  MaxPool: pool('MaxPool'),
  ResizeBilinear: resizeBilinear,
  SpaceToBatchND: spaceToBatch,
  BatchToSpaceND: batchToSpace,
};

export function mapOp(ctx: OpContext): Val[] {
  const mapper = MAPPERS[ctx.node.op];
  if (!mapper) throw new TfjsFormatError(`op ${ctx.node.op} (node ${ctx.node.name}) is not supported by the converter`);
  return mapper(ctx);
}
