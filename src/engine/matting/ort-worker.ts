// An inference worker thread (the engine runs two, see ./ort-transport.ts): the sessions opened
// in it are created and run here, so a model run blocks this thread and not the engine's.
import * as ort from 'onnxruntime-node';
import { serve } from '../workers/serve.js';
import type { RunAnswer, WireTensor } from './ort-transport.js';

const sessions = new Map<number, ort.InferenceSession>();
let nextId = 1;
/** The run in progress; the next starts when it ends. */
let queue: Promise<unknown> = Promise.resolve();

function session(id: number): ort.InferenceSession {
  const s = sessions.get(id);
  if (!s) throw new Error(`onnxruntime session ${id} is not open in this worker`);
  return s;
}

serve({
  open: async (p: { model: Uint8Array | string; options: ort.InferenceSession.SessionOptions }) => {
    const s = typeof p.model === 'string' ? await ort.InferenceSession.create(p.model, p.options) : await ort.InferenceSession.create(p.model, p.options);
    const id = nextId++;
    sessions.set(id, s);
    return { result: { id, inputNames: s.inputNames, outputNames: s.outputNames } };
  },
  run: async (p: { id: number; feeds: Record<string, WireTensor>; fetches?: string[] }) => {
    const feeds: Record<string, ort.Tensor> = {};
    for (const [name, t] of Object.entries(p.feeds)) feeds[name] = new ort.Tensor(t.type, t.data as never, t.dims);
    const s = session(p.id);
    // Runs take turns here (onnxruntime-node's run() is a blocking call deferred by setImmediate,
    // so they were serial anyway), so the clock around each (epoch based, comparable between
    // threads) is its own and shows which runs of different workers overlapped.
    const turn = queue.then(async () => {
      const startedAt = performance.timeOrigin + performance.now();
      const out = p.fetches ? await s.run(feeds, p.fetches) : await s.run(feeds);
      return { out, startedAt, endedAt: performance.timeOrigin + performance.now() };
    });
    queue = turn.then(
      () => undefined, // not the outputs: they would stay alive until the next run
      () => undefined,
    );
    const { out, startedAt, endedAt } = await turn;
    const outputs: Record<string, WireTensor> = {};
    const transfer: ArrayBuffer[] = [];
    for (const [name, t] of Object.entries(out)) {
      const data = t.data as WireTensor['data'];
      outputs[name] = { type: t.type as WireTensor['type'], data, dims: [...t.dims] };
      // Outputs are this run's own buffers: they move to the engine without a copy.
      if (data.buffer instanceof ArrayBuffer && !transfer.includes(data.buffer)) transfer.push(data.buffer);
    }
    const result: RunAnswer = { outputs, startedAt, endedAt };
    return { result, transfer };
  },
  release: async (p: { id: number }) => {
    const s = sessions.get(p.id);
    sessions.delete(p.id);
    await s?.release();
    return { result: null };
  },
});
