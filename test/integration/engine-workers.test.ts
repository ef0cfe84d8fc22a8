// Model runs and plate alignment happen in worker threads (src/engine/matting/ort-transport.ts,
// src/engine/align/remote-aligner.ts). A worker that dies mid-request fails that request with
// 503 worker_crashed, and the next request runs in a new worker (the model opens again by itself).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MatteResponse } from '../../src/shared/api.js';
import { alignWorker } from '../../src/engine/align/remote-aligner.js';
import { inferenceWorker } from '../../src/engine/matting/ort-transport.js';
import type { WorkerClient } from '../../src/engine/workers/client.js';
import { makeAlignPair } from '../../src/eval/align-pairs.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toPng, withSquare } from '../support/images.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.stop();
});

const matte = (image: Buffer, plate: Buffer, align = 'auto'): Promise<Response> => {
  const fd = new FormData();
  fd.append('align', align);
  fd.append('image', new Blob([image], { type: 'image/png' }), 'image.png');
  fd.append('background', new Blob([plate], { type: 'image/png' }), 'plate.png');
  return t.api('/v1/matte', { method: 'POST', body: fd });
};

/**
 * Kills `worker` while `request` has work in flight there and returns the request's error. The
 * worker exits between its tasks, but kill() drops the answer of the task in progress (as a
 * crash loses it), so the request fails even when that was its last task. A request that still
 * succeeded (the only call in flight was one whose failure it ignores) is tried again.
 */
async function killedMidRequest(worker: WorkerClient, request: () => Promise<Response>): Promise<{ code: string; message: string }> {
  for (let attempt = 0; attempt < 6; attempt++) {
    const res = request();
    await expect.poll(() => worker.inFlight, { timeout: 30_000, interval: 2 }).toBeGreaterThan(0);
    await worker.kill();
    const answer = await res;
    if (answer.status === 200) continue;
    expect(answer.status).toBe(503);
    expect(answer.headers.get('retry-after')).toBe('1'); // the worker is replaced at once
    const error = await errorOf(answer);
    expect(error.code).toBe('worker_crashed');
    return error;
  }
  throw new Error('the kill never landed while the request had work in flight');
}

describe('the engine workers', () => {
  it('dying mid-run fails that still with 503 worker_crashed; the next still works in a new worker', async () => {
    const plate = texturedPlate(96, 64, 3);
    const small = [await toPng(withSquare(plate, { x: 30, y: 20, size: 24, color: [250, 20, 20] })), await toPng(plate)] as const;
    expect((await matte(...small)).status).toBe(200);
    const first = inferenceWorker().threadId;
    expect(first).toBeDefined();

    const bigPlate = texturedPlate(3072, 2048, 4);
    const big = [await toPng(withSquare(bigPlate, { x: 900, y: 600, size: 800, color: [250, 20, 20] })), await toPng(bigPlate)] as const;
    const error = await killedMidRequest(inferenceWorker(), () => matte(...big));
    expect(error.message).toMatch(/inference worker died/);

    const again = await matte(...small);
    expect(again.status).toBe(200);
    expect(inferenceWorker().threadId).toBeDefined();
    expect(inferenceWorker().threadId).not.toBe(first);
    expect((await t.api('/v1/health')).status).toBe(200);
  }, 120_000);

  it('the align worker dying mid-still fails that still with 503 worker_crashed; the next aligned still works', async () => {
    // A plate 12 px off the frame: alignment "on" estimates and warps at full size.
    const pair = makeAlignPair({ width: 1280, height: 720, warp: [1, 0, 12, 0, 1, -6, 0, 0, 1], noise: 2 });
    const [frame, plate] = [await toPng(pair.frame), await toPng(pair.plate)];
    const error = await killedMidRequest(alignWorker(), () => matte(frame, plate, 'on'));
    expect(error.message).toMatch(/align worker died/);
    const again = await matte(frame, plate, 'on');
    expect(again.status).toBe(200);
    const report = ((await again.json()) as MatteResponse).align;
    expect(report?.framesWarped, JSON.stringify(report)).toBe(1);
  }, 120_000);
});
