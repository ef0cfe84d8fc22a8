// The converted RVM's full-resolution stage, rewritten when the model is loaded. RVM ends in a
// fast guided filter: coefficients A and b (4 channels: foreground residual RGB and alpha) are
// found at the network's low resolution, upsampled, and applied to the full frame as
// A * [src, mean(src)] + b, then clipped; the wrapper then quantizes. As converted that is about
// fifteen full-resolution float passes (src / 255, a 4-channel guide, two Resizes, Mul, Add,
// Split, four Clips, the residual Add, Concat, two QuantizeLinear), about 40% of a 1080p frame, and
// onnxruntime runs all of them even when only alpha is fetched. The rewrite folds the constants
// into the low-resolution coefficients (the 1/255 scale, the mean's 1/3, the foreground's
// residual +1), lets QuantizeLinear's saturation do the clipping, and computes alpha alone (one
// channel) when the caller wants no foreground (an If on `want_foreground`). The network's
// downsampling input becomes Resize(frame) / 255 instead of Resize(frame / 255), so no
// full-resolution Div remains. Same result within one 8-bit level (tested against the converted
// graph run as it is).
//
// Only the conversion `npm run models:rvm` makes (NHWC) has this shape; any other graph, or one
// that does not match exactly, keeps the plain wrapper.
import onnxProto from 'onnx-proto';
import type { GraphProto } from '../onnx/splice.js';

const { onnx } = onnxProto;

type NodeProto = NonNullable<GraphProto['node']>[number];

/** Names shared between the converted graph and the fast wrapper. */
export const FAST_TAIL = {
  /** float (1, H, W, 3): the frame's RGB as 0..255 floats (the wrapper's pre makes it). */
  rgb255: 'cleanplate_rgb255',
  /** float (1, h, w, 4): the guided filter's A and b at low resolution (the network makes them). */
  a: 'cleanplate_gf_a',
  b: 'cleanplate_gf_b',
  /** bool scalar input: compute the RGBA foreground (else alpha alone). */
  wantForeground: 'cleanplate_want_foreground',
} as const;

interface Tail {
  readonly a: string;
  readonly b: string;
  /** The tail's nodes, from the Resizes of A and b to the outputs pha and fgr. */
  readonly nodes: Set<NodeProto>;
  /** The guide [src, mean(src)], read by the tail's Mul and otherwise only by Shape nodes. */
  readonly guide: string;
  /** The guide's Concat and ReduceMean, which read src. */
  readonly guideNodes: readonly NodeProto[];
}

function scalarOf(graph: GraphProto, name: string): number | undefined {
  const t = (graph.initializer ?? []).find((i) => i.name === name);
  if (!t || (t.dims ?? []).length !== 0 || t.dataType !== 1) return undefined;
  if (t.floatData && t.floatData.length === 1) return t.floatData[0];
  if (t.rawData && t.rawData.length === 4) return new DataView(t.rawData.buffer, t.rawData.byteOffset, 4).getFloat32(0, true);
  return undefined;
}

const attr = (n: NodeProto, name: string): string | undefined => {
  const a = (n.attribute ?? []).find((x) => x.name === name);
  return a?.s ? new TextDecoder().decode(a.s) : undefined;
};

/** Finds the guided filter's output stage; undefined when the graph is not shaped as expected. */
function findTail(graph: GraphProto): Tail | undefined {
  const producer = new Map<string, NodeProto>();
  for (const n of graph.node ?? []) for (const o of n.output ?? []) producer.set(o, n);
  const nodes = new Set<NodeProto>();
  const take = (name: string | undefined, op: string): NodeProto | undefined => {
    const n = name === undefined ? undefined : producer.get(name);
    if (n?.opType !== op) return undefined;
    nodes.add(n);
    return n;
  };
  // out <- Identity <- Clip <- Clip <- x, one clip with min 0 and one with max 1 (TF's Minimum/Maximum): returns x.
  const clipped = (output: string): string | undefined => {
    const id = take(output, 'Identity');
    const outer = take(id?.input?.[0], 'Clip');
    const inner = take(outer?.input?.[0], 'Clip');
    const bounds = (c: NodeProto | undefined) => [scalarOf(graph, c?.input?.[1] ?? ''), scalarOf(graph, c?.input?.[2] ?? '')];
    const found = [bounds(outer), bounds(inner)].map(([lo, hi]) => (lo === 0 && hi === undefined ? 'min' : lo === undefined && hi === 1 ? 'max' : 'other'));
    if (!inner || found.includes('other') || found[0] === found[1]) return undefined;
    return inner.input?.[0];
  };
  const phaIn = clipped('pha');
  const fgrIn = clipped('fgr');
  const residual = take(fgrIn, 'Add');
  const split = phaIn === undefined ? undefined : producer.get(phaIn);
  const splitOutputs = split?.output ?? [];
  if (!residual || !split || split.opType !== 'Split' || splitOutputs.length !== 2 || splitOutputs[1] !== phaIn) return undefined;
  nodes.add(split);
  const [splitOut, src] = residual.input ?? [];
  if (splitOut !== splitOutputs[0] || src !== 'src') return undefined;
  const sum = take(split.input?.[0], 'Add');
  const mul = take(sum?.input?.[0], 'Mul');
  const resizeB = take(sum?.input?.[1], 'Resize');
  const resizeA = take(mul?.input?.[0], 'Resize');
  const guide = mul?.input?.[1];
  const concat = guide === undefined ? undefined : producer.get(guide);
  const mean = producer.get(concat?.input?.[1] ?? '');
  if (!resizeA || !resizeB || concat?.opType !== 'Concat' || concat.input?.[0] !== 'src' || mean?.opType !== 'ReduceMean' || mean.input?.[0] !== 'src') return undefined;
  for (const r of [resizeA, resizeB]) if (attr(r, 'mode') !== 'linear' || attr(r, 'coordinate_transformation_mode') !== 'half_pixel') return undefined;
  return { a: resizeA.input![0]!, b: resizeB.input![0]!, nodes, guide: guide!, guideNodes: [concat, mean] };
}

/**
 * Rewrites the converted graph in place for the fast wrapper: the tail is removed, A and b become
 * outputs, and `src` (which the wrapper no longer makes) is replaced by FAST_TAIL.rgb255. Returns
 * false, leaving the graph untouched, when it does not have the expected shape.
 */
export function cutFastTail(graph: GraphProto): boolean {
  const tail = findTail(graph);
  if (!tail) return false;
  const kept = (graph.node ?? []).filter((n) => !tail.nodes.has(n));
  const readers = (name: string) => kept.filter((n) => (n.input ?? []).includes(name));
  // Besides the tail, the guide feeds only Shape nodes (the output size), src only Shape nodes,
  // the guide (dropped below) and the network's downsampling Resize.
  if (readers(tail.guide).some((n) => n.opType !== 'Shape')) return false;
  const srcReaders = readers('src').filter((n) => !tail.guideNodes.includes(n));
  if (srcReaders.some((n) => n.opType !== 'Shape' && n.opType !== 'Resize')) return false;

  const node = (opType: string, input: string[], output: string) => onnx.NodeProto.create({ opType, input, output: [output], name: `cleanplate/fast_tail/${output}` });
  for (const n of readers(tail.guide)) n.input = n.input!.map((i) => (i === tail.guide ? FAST_TAIL.rgb255 : i));
  const nodes: NodeProto[] = [];
  for (const n of kept) {
    nodes.push(n);
    if (!srcReaders.includes(n)) continue;
    n.input = n.input!.map((i) => (i === 'src' ? FAST_TAIL.rgb255 : i));
    if (n.opType === 'Resize') {
      // Bilinear resizing is linear: Resize(x) / 255 is Resize(x / 255), at the small size.
      const out = n.output![0]!;
      n.output = [`${out}_255`];
      nodes.push(node('Div', [`${out}_255`, DIV_255], out));
    }
  }
  graph.node = [...nodes, node('Identity', [tail.a], FAST_TAIL.a), node('Identity', [tail.b], FAST_TAIL.b)];
  graph.initializer = [...(graph.initializer ?? []), onnx.TensorProto.create({ name: DIV_255, dataType: 1, dims: [], floatData: [255] })];
  graph.output = [
    ...(graph.output ?? []).filter((o) => o.name !== 'pha' && o.name !== 'fgr'),
    ...[FAST_TAIL.a, FAST_TAIL.b].map((name) => onnx.ValueInfoProto.create({ name, type: { tensorType: { elemType: 1 } } })),
  ];
  removeDeadNodes(graph);
  return true;
}

const DIV_255 = 'cleanplate/fast_tail/255';

/** Drops nodes and weights no graph output depends on (the guide and its mean, once the tail is gone). */
function removeDeadNodes(graph: GraphProto): void {
  const needed = new Set((graph.output ?? []).map((o) => o.name ?? ''));
  const live: NodeProto[] = [];
  for (const n of [...(graph.node ?? [])].reverse()) {
    if (!(n.output ?? []).some((o) => needed.has(o))) continue;
    live.push(n);
    for (const i of n.input ?? []) needed.add(i);
    for (const a of n.attribute ?? []) if (a.g) for (const sub of a.g.node ?? []) for (const i of sub.input ?? []) needed.add(i);
  }
  graph.node = live.reverse();
  graph.initializer = (graph.initializer ?? []).filter((t) => needed.has(t.name ?? ''));
}
