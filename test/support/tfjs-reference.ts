// The reference the converter is checked against: the same TFJS graph model run by TensorFlow.js
// itself on its WebAssembly backend (dev dependencies only). The .wasm binaries are read from
// node_modules, never fetched.
import { createRequire } from 'node:module';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import * as tfc from '@tensorflow/tfjs-converter';
import type { TfjsModelJson } from '../../src/engine/models/tfjs-onnx/model-json.js';

let ready: Promise<void> | undefined;

/** Selects the wasm backend once per process, with its binaries from node_modules. */
export function tfjsWasm(): Promise<void> {
  ready ??= (async () => {
    const wasm = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    setWasmPaths(`${path.dirname(wasm)}${path.sep}`);
    if (!(await tf.setBackend('wasm'))) throw new Error('the tfjs wasm backend did not initialise');
    await tf.ready();
  })();
  return ready;
}

export { tf };

/** Loads a graph model from its JSON and weight bytes (no files, no network). */
export async function loadTfjsGraph(model: TfjsModelJson, weights: Uint8Array): Promise<tfc.GraphModel> {
  await tfjsWasm();
  const data = weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength) as ArrayBuffer;
  return tfc.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: model.modelTopology as unknown as tf.io.ModelJSON['modelTopology'],
      weightSpecs: model.weightsManifest.flatMap((g) => g.weights) as unknown as tf.io.WeightsManifestEntry[],
      weightData: data,
    }),
  );
}

/** Runs a graph model; `outputs` are TF tensor names ("Identity_1:0"). Returns plain arrays with shapes. */
export async function runTfjs(
  model: tfc.GraphModel,
  feeds: Record<string, { data: Float32Array<ArrayBufferLike>; shape: number[] }>,
  outputs: string[],
): Promise<{ data: Float32Array; shape: number[] }[]> {
  const inputs = Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, tf.tensor(v.data, v.shape, 'float32')]));
  try {
    const result = await model.executeAsync(inputs, outputs);
    const list = Array.isArray(result) ? result : [result];
    const out = await Promise.all(list.map(async (t) => ({ data: (await t.data()) as Float32Array, shape: t.shape })));
    tf.dispose(list);
    return out;
  } finally {
    tf.dispose(Object.values(inputs));
  }
}
