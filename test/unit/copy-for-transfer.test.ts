// Frames cross to worker threads as copies made on the engine's thread: a large one is copied in
// chunks with a turn of the event loop between them, so health and uploads are answered meanwhile.
import { describe, expect, it } from 'vitest';
import { copyForTransfer } from '../../src/engine/workers/client.js';

describe('copyForTransfer', () => {
  it('copies exactly the view into a buffer of its own', async () => {
    const whole = new Uint8Array((13 << 20) + 1000).map((_, i) => i % 251);
    const view = whole.subarray(17, whole.length - 5);
    const copy = await copyForTransfer(view);
    expect(copy.buffer).not.toBe(whole.buffer);
    expect(copy.byteOffset).toBe(0);
    expect(copy.buffer.byteLength).toBe(view.byteLength);
    expect(Buffer.from(copy).equals(Buffer.from(view))).toBe(true);
    const floats = await copyForTransfer(new Float32Array([1.5, -2, 3]));
    expect(floats).toBeInstanceOf(Float32Array);
    expect([...floats]).toEqual([1.5, -2, 3]);
  });

  it('lets the event loop turn at least every 4 MiB of a large copy', async () => {
    const bytes = 64 << 20;
    let turns = 0;
    let copying = true;
    const spin = (): void => {
      if (!copying) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await copyForTransfer(new Uint8Array(bytes));
    copying = false;
    expect(turns).toBeGreaterThanOrEqual(bytes / (4 << 20) - 1);
  });
});
