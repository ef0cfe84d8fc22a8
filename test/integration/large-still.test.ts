// The fault run's 196 KB PNG that decodes to 8192x8192: admitted by the stills' pixel budget
// (decoded only after admission), served, and the engine's memory back near idle afterwards;
// while it runs, further stills queue and past the queue get 503 busy with Retry-After, and
// /v1/health keeps answering (the model runs in a worker thread, not on the engine's).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { STILL_QUEUE_LENGTH } from '../../src/engine/services/pixel-budget.js';
import { errorOf, startTestEngine, type TestEngine } from '../support/engine.js';
import { texturedPlate, toPng } from '../support/images.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t?.stop();
});

const MiB = 2 ** 20;

/** Asks /v1/health one request after another until stopped; each answer's latency in ms. */
function pollHealth(): { stop: () => Promise<number[]> } {
  const latencies: number[] = [];
  let running = true;
  const loop = (async () => {
    while (running) {
      const t0 = performance.now();
      const res = await t.api('/v1/health');
      await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      await new Promise((r) => setTimeout(r, 25));
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return latencies;
    },
  };
}
const matte = (image: Buffer, plate: Buffer): Promise<Response> => {
  const fd = new FormData();
  fd.append('image', new Blob([image], { type: 'image/png' }), 'image.png');
  fd.append('background', new Blob([plate], { type: 'image/png' }), 'plate.png');
  return t.api('/v1/matte', { method: 'POST', body: fd });
};

describe('an 8192x8192 still', () => {
  it('is served within the pixel budget, others queue or get 503 busy, and memory comes back', async () => {
    const small = await toPng(texturedPlate(64, 48, 2));
    expect((await matte(small, small)).status).toBe(200); // warm: the model is open
    const idle = process.memoryUsage().rss;
    const big = await sharp({ create: { width: 8192, height: 8192, channels: 3, background: { r: 40, g: 120, b: 200 } } })
      .png({ compressionLevel: 9 })
      .toBuffer();
    expect(big.length).toBeLessThan(300 * 1024); // small on the wire, 192 MiB decoded

    const health = pollHealth();
    const started = performance.now();
    const large = matte(big, big);
    // Until the large one is admitted and holds the whole budget, small ones may slip in: wait.
    await expect.poll(() => t.engine.context.stillBudget.inUse, { timeout: 30_000, interval: 20 }).toBe(8192 * 8192);
    const queued = Array.from({ length: STILL_QUEUE_LENGTH }, () => matte(small, small));
    await new Promise((r) => setTimeout(r, 200));
    const refused = await matte(small, small);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await errorOf(refused)).code).toBe('busy');

    const res = await large;
    const largeMs = performance.now() - started;
    const latencies = await health.stop();
    expect(res.status).toBe(200);
    const body = (await res.json()) as { width: number; height: number; ms: number; outputs: { alpha: string } };
    // With the model on the engine's thread health went unanswered for the whole model run. The
    // bound is relative to that run, so it holds on a loaded machine (where everything is slower)
    // and still fails the old way; the 100 ms figure is measured in npm run bench still-health.
    const worst = Math.max(...latencies);
    console.log(`8192x8192 still ${largeMs.toFixed(0)} ms (model ${body.ms} ms); health answered ${latencies.length} times, worst ${worst.toFixed(0)} ms`);
    expect(latencies.length).toBeGreaterThan(10);
    expect(worst).toBeLessThan(Math.max(500, body.ms / 3));
    expect([body.width, body.height]).toEqual([8192, 8192]);
    expect((await Promise.all(queued)).map((r) => r.status)).toEqual(Array(STILL_QUEUE_LENGTH).fill(200));
    expect(t.engine.context.stillBudget.inUse).toBe(0);

    // Memory back near idle (the fault run: 6 GB held afterwards).
    await expect.poll(() => (process.memoryUsage().rss - idle) / MiB, { timeout: 15_000, interval: 500 }).toBeLessThan(400);
  }, 180_000);
});
