// Splicing pre- and post-processing graphs (built with GraphBuilder) around a model's own graph,
// so one onnxruntime session runs everything and the model's file is used as it is. The wrapper
// graphs name the model's inputs as their outputs (pre) and the model's outputs as their inputs
// (post); every other name they made up gets a prefix so it cannot meet a name of the model.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;

export type ModelProto = InstanceType<typeof onnx.ModelProto>;
export type GraphProto = NonNullable<ModelProto['graph']>;

/** Decodes a model GraphBuilder produced (wrapper graphs), for splicing. */
export function decodeWrapper(bytes: Uint8Array): GraphProto {
  return onnx.ModelProto.decode(bytes).graph!;
}

/** Gives every name in `graph` (and in its If branches) except the shared ones `${prefix}${tag}/`. */
export function prefixNames(graph: GraphProto, prefix: string, tag: string, shared: ReadonlySet<string>): GraphProto {
  const rename = (n: string) => (n === '' || shared.has(n) ? n : `${prefix}${tag}/${n}`);
  const visit = (g: GraphProto) => {
    for (const node of g.node ?? []) {
      node.input = (node.input ?? []).map(rename);
      node.output = (node.output ?? []).map(rename);
      node.name = rename(node.name ?? '');
      for (const a of node.attribute ?? []) {
        if (a.g) visit(a.g);
        for (const sub of a.graphs ?? []) visit(sub);
      }
    }
    for (const t of g.initializer ?? []) t.name = rename(t.name ?? '');
    for (const v of [...(g.input ?? []), ...(g.output ?? [])]) if (g !== graph) v.name = rename(v.name ?? '');
  };
  visit(graph);
  return graph;
}

/** Every value name a graph declares or produces. */
export function namesIn(graph: GraphProto): Set<string> {
  const names = new Set<string>();
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.valueInfo ?? [])]) names.add(v.name ?? '');
  for (const t of graph.initializer ?? []) names.add(t.name ?? '');
  for (const n of graph.node ?? []) for (const o of n.output ?? []) names.add(o);
  return names;
}

/** The names of `graph` that a wrapper would need for itself (its IO names, or its prefix). */
export function clashingNames(graph: GraphProto, reserved: readonly string[], prefix: string): string[] {
  return [...namesIn(graph)].filter((name) => reserved.includes(name) || name.startsWith(prefix));
}
