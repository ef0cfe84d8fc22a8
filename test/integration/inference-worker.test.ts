// Model runs happen in a worker thread (src/engine/matting/ort-transport.ts). A worker that dies
// mid-run fails that request with 503 worker_crashed, and the next request runs in a new worker
// that opens the model again by itself.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inferenceWorker } from '../../src/engine/matting/ort-transport.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toPng, withSquare } from '../support/images.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.stop();
});

const matte = (image: Buffer, plate: Buffer): Promise<Response> => {
  const fd = new FormData();
  fd.append('image', new Blob([image], { type: 'image/png' }), 'image.png');
  fd.append('background', new Blob([plate], { type: 'image/png' }), 'plate.png');
  return t.api('/v1/matte', { method: 'POST', body: fd });
};

describe('the inference worker', () => {
  it('dying mid-run fails that still with 503 worker_crashed; the next still works in a new worker', async () => {
    const plate = texturedPlate(96, 64, 3);
    const small = [await toPng(withSquare(plate, { x: 30, y: 20, size: 24, color: [250, 20, 20] })), await toPng(plate)] as const;
    expect((await matte(...small)).status).toBe(200);
    const first = inferenceWorker().threadId;
    expect(first).toBeDefined();

    const bigPlate = texturedPlate(3072, 2048, 4);
    const big = [await toPng(withSquare(bigPlate, { x: 900, y: 600, size: 800, color: [250, 20, 20] })), await toPng(bigPlate)] as const;
    // The kill must land while a run is in flight; a still also has short gaps between its runs,
    // so a kill that lands in one (the still then succeeds) is tried again.
    let crashed: Response | undefined;
    for (let attempt = 0; attempt < 3 && !crashed; attempt++) {
      const res = matte(...big);
      await expect.poll(() => inferenceWorker().inFlight, { timeout: 30_000, interval: 2 }).toBeGreaterThan(0);
      await inferenceWorker().kill();
      const answer = await res;
      if (answer.status !== 200) crashed = answer;
    }
    expect(crashed?.status).toBe(503);
    const error = await errorOf(crashed!);
    expect(error.code).toBe('worker_crashed');
    expect(error.message).toMatch(/inference worker died/);

    const again = await matte(...small);
    expect(again.status).toBe(200);
    expect(inferenceWorker().threadId).toBeDefined();
    expect(inferenceWorker().threadId).not.toBe(first);
    expect((await t.api('/v1/health')).status).toBe(200);
  }, 120_000);
});
