// A small typed builder for ONNX graphs on onnx-proto. The project builds its own models
// (the `plate` model, test fixtures) from TypeScript instead of shipping opaque files, so graph
// construction has to read like code: `g.op('Sub', [a, b])` returns the output's name.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export const OPSET = 18;

/** ONNX TensorProto.DataType codes for the element types the project uses. */
export const DType = {
  float: 1,
  uint8: 2,
  int8: 3,
  int32: 6,
  int64: 7,
  bool: 9,
} as const;
export type DTypeName = keyof typeof DType;

export type Dim = number | string;
export type AttrValue = number | number[] | string | Float32Array | { float: number } | { floats: number[] } | { graph: Graph };

type Graph = InstanceType<typeof onnx.GraphProto>;

type Attribute = InstanceType<typeof onnx.AttributeProto>;

function attribute(name: string, value: AttrValue): Attribute {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof value === 'string') return onnx.AttributeProto.create({ name, type: T.STRING, s: new TextEncoder().encode(value) });
  if (typeof value === 'number') {
    return Number.isInteger(value) ? onnx.AttributeProto.create({ name, type: T.INT, i: value }) : onnx.AttributeProto.create({ name, type: T.FLOAT, f: value });
  }
  if (value instanceof Float32Array) return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: Array.from(value) });
  if (Array.isArray(value)) return onnx.AttributeProto.create({ name, type: T.INTS, ints: value });
  if ('graph' in value) return onnx.AttributeProto.create({ name, type: T.GRAPH, g: value.graph });
  if ('float' in value) return onnx.AttributeProto.create({ name, type: T.FLOAT, f: value.float });
  return onnx.AttributeProto.create({ name, type: T.FLOATS, floats: value.floats });
}

/** dims null: a tensor of unknown rank (e.g. a converted graph's input that takes any shape). */
function valueInfo(name: string, dtype: DTypeName, dims: Dim[] | null) {
  return onnx.ValueInfoProto.create({
    name,
    type: {
      tensorType: {
        elemType: DType[dtype],
        ...(dims === null ? {} : { shape: { dim: dims.map((d) => (typeof d === 'string' ? { dimParam: d } : { dimValue: d })) } }),
      },
    },
  });
}

export class GraphBuilder {
  private readonly nodes: InstanceType<typeof onnx.NodeProto>[] = [];
  private readonly inits: InstanceType<typeof onnx.TensorProto>[] = [];
  private readonly inputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  private readonly outputs: InstanceType<typeof onnx.ValueInfoProto>[] = [];
  // Shared with branch subgraphs so every value name in the model is unique.
  private readonly counter: { n: number };

  constructor(
    readonly name: string,
    counter?: { n: number },
  ) {
    this.counter = counter ?? { n: 0 };
  }

  private fresh(hint: string): string {
    this.counter.n += 1;
    return `${hint}_${this.counter.n}`;
  }

  /**
   * ONNX `If`: runs only one branch, so costly work can be skipped when a scalar bool `cond`
   * computed in the graph says it is not needed. Each branch builds its single output from
   * values of the enclosing graph.
   */
  ifElse(cond: string, dtype: DTypeName, dims: Dim[], thenBranch: (b: GraphBuilder) => string, elseBranch: (b: GraphBuilder) => string): string {
    const branch = (label: string, build: (b: GraphBuilder) => string) => {
      const b = new GraphBuilder(`${this.name}_${label}`, this.counter);
      b.output(b.fresh(`${label}_out`), build(b), dtype, dims);
      return b.graph();
    };
    return this.op('If', [cond], { then_branch: { graph: branch('then', thenBranch) }, else_branch: { graph: branch('else', elseBranch) } });
  }

  input(name: string, dtype: DTypeName, dims: Dim[] | null): string {
    this.inputs.push(valueInfo(name, dtype, dims));
    return name;
  }

  /** Declares `value` (a name produced by op/constant) as a graph output called `name`. */
  output(name: string, value: string, dtype: DTypeName, dims: Dim[] | null): void {
    // Always through an Identity: a branch output must be produced inside its own subgraph.
    this.nodes.push(onnx.NodeProto.create({ opType: 'Identity', input: [value], output: [name], name: this.fresh('out') }));
    this.outputs.push(valueInfo(name, dtype, dims));
  }

  /** A float32 constant (scalar when dims is []). */
  float(values: number | number[], dims?: number[]): string {
    const data = typeof values === 'number' ? [values] : values;
    const name = this.fresh('c');
    this.inits.push(onnx.TensorProto.create({ name, dataType: DType.float, dims: dims ?? (typeof values === 'number' ? [] : [data.length]), floatData: data }));
    return name;
  }

  int64(values: number | number[], dims?: number[]): string {
    const data = typeof values === 'number' ? [values] : values;
    const name = this.fresh('i');
    this.inits.push(onnx.TensorProto.create({ name, dataType: DType.int64, dims: dims ?? (typeof values === 'number' ? [] : [data.length]), int64Data: data }));
    return name;
  }

  int32(values: number | number[], dims?: number[]): string {
    const data = typeof values === 'number' ? [values] : values;
    const name = this.fresh('i32');
    this.inits.push(onnx.TensorProto.create({ name, dataType: DType.int32, dims: dims ?? (typeof values === 'number' ? [] : [data.length]), int32Data: data }));
    return name;
  }

  uint8(values: number | number[], dims?: number[]): string {
    const data = typeof values === 'number' ? [values] : values;
    const name = this.fresh('u');
    this.inits.push(onnx.TensorProto.create({ name, dataType: DType.uint8, dims: dims ?? (typeof values === 'number' ? [] : [data.length]), rawData: Uint8Array.from(data) }));
    return name;
  }

  /** An initializer stored as raw little-endian bytes: compact and fast to encode for large weights. */
  raw(dtype: 'float' | 'int32' | 'int64' | 'uint8' | 'bool', data: Float32Array | Int32Array | BigInt64Array | Uint8Array, dims: number[], hint = 'w'): string {
    const name = this.fresh(hint);
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.inits.push(onnx.TensorProto.create({ name, dataType: DType[dtype], dims, rawData: bytes }));
    return name;
  }

  /**
   * uint8 0..255 -> float32 0..1 as the reference code computes it, `x / 255`: multiplying by
   * float32(1/255) (DequantizeLinear) lands one float step off for 126 of the 256 values, which
   * can tip a network's ranking (BGMv2's refiner picks patches by top-k error).
   */
  unitFromUint8(x: string): string {
    return this.op('Div', [this.op('Cast', [x], { to: DType.float }), this.float(255)]);
  }

  /** Adds a node with one output and returns the output's name. */
  op(opType: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint?: string): string {
    return this.opN(opType, inputs, 1, attrs, hint)[0]!;
  }

  /** Adds a node with `count` outputs. An empty-string input means "omitted optional input". */
  opN(opType: string, inputs: string[], count: number, attrs: Record<string, AttrValue> = {}, hint?: string): string[] {
    const outs = Array.from({ length: count }, () => this.fresh(hint ?? opType.toLowerCase()));
    this.nodes.push(
      onnx.NodeProto.create({
        opType,
        input: inputs,
        output: outs,
        name: this.fresh(`n_${opType}`),
        attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
      }),
    );
    return outs;
  }

  private graph(): Graph {
    return onnx.GraphProto.create({
      name: this.name,
      node: this.nodes,
      initializer: this.inits,
      input: this.inputs,
      output: this.outputs,
    });
  }

  /** Serialises the model (opset 18, IR 8) to bytes for onnxruntime or a file. */
  toBytes(docString = ''): Uint8Array {
    const graph = this.graph();
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'cleanplate',
      docString,
      opsetImport: [{ domain: '', version: OPSET }],
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }
}
