// Memory comes back from the inference worker right after a large run: the inputs it was sent
// are garbage there once the run ends, and an idle worker's isolate does not collect by itself
// (an 8192x8192 still's 384 MiB of inputs were held about 8 s, until V8's memory reducer ran).
import { afterAll, describe, expect, it } from 'vitest';
import { Tensor } from 'onnxruntime-node';
import { GraphBuilder } from '../../src/engine/matting/onnx/graph-builder.js';
import { createWorkerSession } from '../../src/engine/matting/ort-transport.js';
import { holdWorkers } from '../../src/engine/workers/client.js';
import { collectGarbage } from '../../src/engine/workers/gc.js';

const releaseWorkers = holdWorkers();
afterAll(() => releaseWorkers());

const MiB = 2 ** 20;
const N = 64 * MiB;

function identityGraph(): Uint8Array {
  const g = new GraphBuilder('identity');
  const x = g.input('x', 'uint8', [N]);
  g.output('y', g.op('Identity', [x]), 'uint8', [N]);
  return g.toBytes();
}

/** ArrayBuffer memory the engine's thread allocated and is not freed yet, wherever it went. */
function arrayBufferMiB(): number {
  collectGarbage!();
  return process.memoryUsage().arrayBuffers / MiB;
}

describe('inference worker memory', () => {
  it('frees the copy of a 64 MiB input within a second of the run', async () => {
    const session = await createWorkerSession(identityGraph(), {});
    const before = arrayBufferMiB();
    await (async () => {
      const out = await session.run({ x: new Tensor('uint8', new Uint8Array(N).fill(7), [N]) });
      expect((out.y!.data as Uint8Array)[N - 1]).toBe(7);
    })();
    // Here only the worker can still hold the input's copy (the engine's thread sent it there).
    await expect.poll(arrayBufferMiB, { timeout: 1000, interval: 100 }).toBeLessThan(before + 16);
    await session.release();
  });
});
