import { describe, expect, it } from 'vitest';
import { runPipeline } from '../../src/engine/pipeline/bounded.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('bounded pipeline', () => {
  it('runs stages overlapped, in order, with the producer never far ahead (backpressure)', async () => {
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    let active = 0;
    let maxActive = 0;
    const out: number[] = [];
    const enter = async (ms: number): Promise<void> => {
      active++;
      maxActive = Math.max(maxActive, active);
      await sleep(ms);
      active--;
    };
    await runPipeline({
      capacity: 2,
      source: async function* () {
        for (let i = 0; i < 30; i++) {
          await enter(2);
          produced++;
          maxAhead = Math.max(maxAhead, produced - consumed);
          yield i;
        }
      },
      transform: async (x) => {
        await enter(4);
        return x * 10;
      },
      sink: async (y) => {
        await enter(8); // the slow stage
        out.push(y);
        consumed++;
      },
    });
    expect(out).toEqual(Array.from({ length: 30 }, (_, i) => i * 10));
    expect(maxActive).toBeGreaterThanOrEqual(3); // all three stages were busy at once
    // two queues of 2, one item in each of transform and sink, one being produced
    expect(maxAhead).toBeLessThanOrEqual(2 + 2 + 3);
  });

  it('a failing stage rejects the pipeline with its error and ends the source early', async () => {
    let sourceClosed = false;
    let pulled = 0;
    const run = runPipeline({
      source: async function* () {
        try {
          for (let i = 0; i < 1000; i++) {
            pulled++;
            yield i;
          }
        } finally {
          sourceClosed = true;
        }
      },
      transform: async (x) => {
        if (x === 5) throw new Error('model exploded');
        return x;
      },
      sink: async () => undefined,
    });
    await expect(run).rejects.toThrow('model exploded');
    expect(sourceClosed).toBe(true);
    expect(pulled).toBeLessThan(20);
  });

  it('aborting stops every stage and passes the pipeline signal to the source', async () => {
    const ctl = new AbortController();
    let sourceSignalAborted = false;
    const run = runPipeline({
      signal: ctl.signal,
      source: async function* (signal) {
        signal.addEventListener('abort', () => (sourceSignalAborted = true));
        for (let i = 0; ; i++) {
          await sleep(1);
          yield i;
        }
      },
      transform: async (x) => x,
      sink: async (x) => {
        if (x === 10) ctl.abort(new Error('cancelled by user'));
      },
    });
    await expect(run).rejects.toThrow('cancelled by user');
    expect(sourceSignalAborted).toBe(true);
  });
  it('a prepare stage works on the next item while transform works on this one, in order', async () => {
    let preparing = 0;
    let transforming = 0;
    let overlapped = 0;
    const out: string[] = [];
    const times = await runPipeline({
      capacity: 1,
      source: async function* () {
        for (let i = 0; i < 12; i++) yield i;
      },
      prepare: async (x, i) => {
        preparing++;
        if (transforming > 0) overlapped++;
        await sleep(3);
        preparing--;
        return `${x}:${i}`;
      },
      transform: async (p) => {
        transforming++;
        if (preparing > 0) overlapped++;
        await sleep(6);
        transforming--;
        return p.toUpperCase();
      },
      sink: async (y) => {
        out.push(y);
      },
    });
    expect(out).toEqual(Array.from({ length: 12 }, (_, i) => `${i}:${i}`));
    expect(overlapped).toBeGreaterThanOrEqual(6); // prepare of N+1 ran during transform of N
    expect(times.prepare).toBeGreaterThan(0);
    expect(times.prepareBlocked).toBeGreaterThan(0); // the slower transform held prepare back
    // The instant sink waited for the slow transform most of the run; prepare hardly for the source.
    expect(times.sinkStarved).toBeGreaterThan(times.sink + 12 * 3);
    expect(times.prepareStarved).toBeLessThan(times.sinkStarved);
  });

  it('a failing prepare stage rejects the pipeline with its error', async () => {
    let transformed = 0;
    const run = runPipeline({
      source: async function* () {
        for (let i = 0; i < 100; i++) yield i;
      },
      prepare: async (x) => {
        if (x === 3) throw new Error('alignment failed');
        return x;
      },
      transform: async (x) => {
        transformed++;
        return x;
      },
      sink: async () => undefined,
    });
    await expect(run).rejects.toThrow('alignment failed');
    expect(transformed).toBeLessThanOrEqual(3);
  });
});
