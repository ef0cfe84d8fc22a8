// The matting service's per-session queue: runs in order, a failure does not block the next, and
// it does not keep the last run's result alive (an 8192x8192 alpha is 64 MiB) until the next run.
import { describe, expect, it } from 'vitest';
import { SerialQueue } from '../../src/engine/services/matting-service.js';
import { collectGarbage } from '../../src/engine/workers/gc.js';

describe('SerialQueue', () => {
  it('runs tasks one at a time in order, past a failure', async () => {
    const q = new SerialQueue();
    const order: string[] = [];
    const slow = q.run(async () => {
      await new Promise((r) => setTimeout(r, 30));
      order.push('a');
    });
    const failing = q.run(async () => {
      order.push('b');
      throw new Error('b failed');
    });
    const after = q.run(async () => order.push('c'));
    await expect(failing).rejects.toThrow('b failed');
    await Promise.all([slow, after, q.drained()]);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('lets the last result be collected once its caller drops it', async () => {
    expect(collectGarbage).toBeDefined();
    const q = new SerialQueue();
    let ref: WeakRef<Uint8Array> | undefined;
    await (async () => {
      const result = await q.run(async () => new Uint8Array(8 << 20));
      ref = new WeakRef(result);
    })();
    await q.drained();
    // Twice, a turn apart: the first may still see the promise reactions that held it.
    collectGarbage!();
    await new Promise((r) => setImmediate(r));
    collectGarbage!();
    expect(ref!.deref() === undefined).toBe(true);
  });
});
