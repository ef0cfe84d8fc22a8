// TensorFlow.js graph model -> ONNX, written for the project (RVM ships only as a TFJS graph).
//
// Layout: the graph stays NHWC, as TF computes it; only the operators ONNX defines on NCHW
// (Conv, pooling) get a Transpose on each side. That keeps every shape computation of the TF
// graph (Shape/StridedSlice/Pack arithmetic on NHWC shapes, Concat/Split/Mean axes) valid as it
// is, so the conversion is a faithful op-for-op mapping; onnxruntime's transpose optimizer then
// cancels the Transpose pairs between consecutive convolutions at session load.
//
// Control flow: TF 1 style Switch/Merge conditionals are resolved at conversion. A Switch whose
// predicate is a constant takes that branch; one whose predicate depends on a graph input takes
// the branch `switchPredicate` names (the caller promises the predicate's value for every input
// the converted model will be run on). Nodes fed by the branch not taken are dead and dropped;
// a Merge forwards its one live input. Only nodes the outputs depend on are converted.
import { GraphBuilder, type Dim } from '../../matting/onnx/graph-builder.js';
import { TfjsFormatError, type TfjsModelJson, type TfNode, type TfDtype, type TfTensor } from './model-json.js';
import { mapOp, type OpContext } from './ops.js';
import { onnxType, tfType, type Val } from './values.js';

const DEAD = Symbol('dead branch');
type Slot = Val | typeof DEAD;

export interface ConvertOptions {
  /** ONNX input dims per Placeholder name, for inputs whose TF shape is unknown or should be named. */
  readonly inputShapes?: Readonly<Record<string, Dim[] | null>>;
  /** The branch every input-dependent Switch takes (see the file comment). */
  readonly switchPredicate?: boolean;
  /** ONNX output name -> TF tensor ("node" or "node:1"); default: the signature's outputs. */
  readonly outputs?: Readonly<Record<string, string>>;
  /** Written into the model's doc string. */
  readonly docString?: string;
}

function parseRef(ref: string): { node: string; index: number } {
  const m = /^(.*?)(?::(\d+))?$/.exec(ref)!;
  return { node: m[1]!, index: m[2] === undefined ? 0 : Number(m[2]) };
}

const refKey = (node: string, index: number) => `${node}:${index}`;

function dimsOf(node: TfNode): Dim[] | null {
  const shape = node.attr?.shape?.shape;
  if (!shape || shape.unknownRank || !shape.dim) return null;
  return shape.dim.map((d, i) => {
    const size = Number(d.size ?? -1);
    return size >= 0 ? size : `${node.name}_d${i}`;
  });
}

class Converter {
  private readonly nodes = new Map<string, TfNode>();
  private readonly slots = new Map<string, Slot>();
  private readonly deadNodes = new Set<string>();
  private readonly converted = new Set<string>();

  constructor(
    readonly g: GraphBuilder,
    model: TfjsModelJson,
    private readonly weights: ReadonlyMap<string, TfTensor>,
    private readonly options: ConvertOptions,
  ) {
    for (const n of model.modelTopology.node) this.nodes.set(n.name, n);
  }

  /** The ONNX name of a value, adding a constant's initializer the first time it is used. */
  name(v: Val): string {
    if (v.name === undefined) {
      const t = v.tensor!;
      v.name = this.g.raw(onnxType(t.dtype), t.data, [...t.shape], 'tf_const');
    }
    return v.name;
  }

  private node(name: string, from?: string): TfNode {
    const n = this.nodes.get(name);
    if (!n) throw new TfjsFormatError(`node ${from ?? '?'} reads "${name}", which the graph does not define`);
    return n;
  }

  /** Data inputs a node needs converted first (control inputs "^x" only order execution in TF). */
  private dependencies(n: TfNode): string[] {
    const data = (n.input ?? []).filter((i) => !i.startsWith('^'));
    if (n.op === 'Switch' && this.options.switchPredicate !== undefined) {
      const pred = this.node(parseRef(data[1]!).node, n.name);
      if (pred.op !== 'Const') return [data[0]!];
    }
    return data;
  }

  private lookup(ref: string, from: string): Slot {
    const { node, index } = parseRef(ref);
    if (this.deadNodes.has(node)) return DEAD;
    const slot = this.slots.get(refKey(node, index));
    if (!slot) throw new TfjsFormatError(`node ${from} reads output ${index} of "${node}", which it does not have`);
    return slot;
  }

  /** Converts `ref` and everything it depends on (iterative post-order: graphs are deep). */
  resolve(ref: string): Slot {
    const target = parseRef(ref).node;
    const stack: { name: string; expanded: boolean }[] = [{ name: target, expanded: false }];
    const visiting = new Set<string>();
    const done = (name: string) => this.converted.has(name);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (done(top.name)) {
        stack.pop();
        continue;
      }
      const n = this.node(top.name);
      if (!top.expanded) {
        top.expanded = true;
        visiting.add(n.name);
        for (const dep of this.dependencies(n)) {
          const d = parseRef(dep).node;
          if (done(d)) continue;
          if (visiting.has(d)) throw new TfjsFormatError(`the graph has a cycle through ${d} (loops are not supported)`);
          stack.push({ name: d, expanded: false });
        }
        continue;
      }
      stack.pop();
      visiting.delete(n.name);
      this.convertNode(n);
    }
    return this.lookup(ref, ref);
  }

  private convertNode(n: TfNode): void {
    this.converted.add(n.name);
    const deps = this.dependencies(n);
    const slots = deps.map((d) => this.lookup(d, n.name));
    const set = (index: number, v: Slot) => this.slots.set(refKey(n.name, index), v);

    if (n.op === 'Merge') {
      const live = slots.findIndex((s) => s !== DEAD);
      if (live < 0) {
        this.deadNodes.add(n.name);
        return;
      }
      set(0, slots[live]!);
      set(1, { dtype: 'int32', tensor: { dtype: 'int32', shape: [], data: Int32Array.of(live) } });
      return;
    }
    if (slots.some((s) => s === DEAD)) {
      this.deadNodes.add(n.name);
      return;
    }
    const inputs = slots as Val[];
    switch (n.op) {
      case 'Placeholder': {
        const dtype = tfType(n.attr?.dtype?.type, n.name);
        const dims = this.options.inputShapes?.[n.name] !== undefined ? this.options.inputShapes[n.name]! : dimsOf(n);
        set(0, { dtype, name: this.g.input(n.name, onnxType(dtype), dims) });
        return;
      }
      case 'Const': {
        const t = this.weights.get(n.name);
        if (!t) throw new TfjsFormatError(`constant ${n.name} has no weight in the weights manifest`);
        set(0, { dtype: t.dtype, tensor: t });
        return;
      }
      case 'Identity':
      case 'StopGradient':
      case 'Snapshot':
        set(0, inputs[0]!);
        return;
      case 'Switch': {
        const pred = inputs.length > 1 ? inputs[1]! : undefined;
        const taken = pred?.tensor ? pred.tensor.data[0] !== 0 : this.options.switchPredicate;
        if (taken === undefined) throw new TfjsFormatError(`Switch ${n.name} depends on a graph input: convert with switchPredicate to choose its branch`);
        set(taken ? 1 : 0, inputs[0]!);
        set(taken ? 0 : 1, DEAD);
        return;
      }
      case 'NoOp':
        return;
      default: {
        const ctx: OpContext = { g: this.g, node: n, inputs, name: (v) => this.name(v) };
        mapOp(ctx).forEach((v, i) => set(i, v));
      }
    }
  }
}

export interface ConvertedOutput {
  readonly name: string;
  readonly dtype: TfDtype;
}

/** Converts into an existing builder (e.g. to wrap the model); returns the outputs' value names. */
export function convertInto(g: GraphBuilder, model: TfjsModelJson, weights: ReadonlyMap<string, TfTensor>, options: ConvertOptions = {}): Record<string, ConvertedOutput> {
  const outputs =
    options.outputs ??
    Object.fromEntries(Object.entries(model.signature?.outputs ?? {}).map(([k, v]) => [k.replace(/:0$/, ''), v.name.replace(/:0$/, '')]));
  if (Object.keys(outputs).length === 0) throw new TfjsFormatError('the model has no signature outputs; name the outputs to convert');
  const c = new Converter(g, model, weights, options);
  const result: Record<string, ConvertedOutput> = {};
  for (const [name, ref] of Object.entries(outputs)) {
    const slot = c.resolve(ref);
    if (slot === DEAD) throw new TfjsFormatError(`output ${name} (${ref}) lies in a branch that switchPredicate=${String(options.switchPredicate)} does not take`);
    result[name] = { name: c.name(slot), dtype: slot.dtype };
  }
  return result;
}

/** A standalone ONNX model with the TF graph's inputs (Placeholders the outputs need) and outputs. */
export function tfjsToOnnx(model: TfjsModelJson, weights: ReadonlyMap<string, TfTensor>, options: ConvertOptions = {}): Uint8Array {
  const g = new GraphBuilder('tfjs_converted');
  const outputs = convertInto(g, model, weights, options);
  for (const [name, out] of Object.entries(outputs)) g.output(name, out.name, onnxType(out.dtype), null);
  return g.toBytes(options.docString ?? 'converted from a TensorFlow.js graph model by CleanPlate');
}
