// How many inference runs go at once (thread-policy.ts parallelRuns) and the gate that makes a run
// with large inputs run alone (ort-transport.ts RunGate).
import { describe, expect, it } from 'vitest';
import { ALONE_INPUT_BYTES, inferenceThreads, NO_SIDE_WORK, parallelRuns } from '../../src/engine/matting/thread-policy.js';
import { RunGate } from '../../src/engine/matting/ort-transport.js';

describe('parallelRuns', () => {
  it('is 2 on exactly 2 cores, where each run has 1 intra-op thread, and 1 elsewhere', () => {
    expect(parallelRuns(2, {})).toBe(2);
    expect(inferenceThreads(NO_SIDE_WORK, 2, {})).toBe(1);
    expect(parallelRuns(1, {})).toBe(1);
    expect(parallelRuns(4, {})).toBe(1);
    expect(parallelRuns(16, {})).toBe(1);
  });

  it('is 1 when CLEANPLATE_THREADS sets the thread count; CLEANPLATE_PARALLEL=1|2 wins over both', () => {
    expect(parallelRuns(2, { CLEANPLATE_THREADS: '1' })).toBe(1);
    expect(parallelRuns(2, { CLEANPLATE_THREADS: 'many' })).toBe(2); // not a valid override
    expect(parallelRuns(2, { CLEANPLATE_PARALLEL: '1' })).toBe(1);
    expect(parallelRuns(8, { CLEANPLATE_PARALLEL: '2' })).toBe(2);
    expect(parallelRuns(2, { CLEANPLATE_THREADS: '1', CLEANPLATE_PARALLEL: '2' })).toBe(2);
    expect(parallelRuns(2, { CLEANPLATE_PARALLEL: '3' })).toBe(2); // ignored: only 1 or 2
    expect(parallelRuns(8, { CLEANPLATE_PARALLEL: '3' })).toBe(1);
  });

  it('an 8192x8192 frame is over the alone limit, a 4K frame and its plate together are not', () => {
    expect(8192 * 8192 * 3).toBeGreaterThan(ALONE_INPUT_BYTES);
    expect(2 * 3840 * 2160 * 3).toBeLessThanOrEqual(ALONE_INPUT_BYTES);
  });
});

describe('RunGate', () => {
  /** Enters the gate and records when it was let in. */
  function enter(gate: RunGate, alone: boolean, log: string[], name: string): Promise<() => void> {
    return gate.enter(alone).then((leave) => {
      log.push(name);
      return leave;
    });
  }
  const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

  it('lets small runs in together; a run alone waits for them, and later runs wait for it', async () => {
    const gate = new RunGate();
    const log: string[] = [];
    const a = await enter(gate, false, log, 'a');
    const b = await enter(gate, false, log, 'b');
    const big = enter(gate, true, log, 'big');
    const c = enter(gate, false, log, 'c');
    await tick();
    expect(log).toEqual(['a', 'b']);
    a();
    await tick();
    expect(log).toEqual(['a', 'b']);
    b();
    await tick();
    expect(log).toEqual(['a', 'b', 'big']);
    (await big)();
    await tick();
    expect(log).toEqual(['a', 'b', 'big', 'c']);
    (await c)();
  });

  it('a run alone lets nothing in beside it; leaving twice counts once', async () => {
    const gate = new RunGate();
    const log: string[] = [];
    const big = await enter(gate, true, log, 'big');
    const small = enter(gate, false, log, 'small');
    const big2 = enter(gate, true, log, 'big2');
    await tick();
    expect(log).toEqual(['big']);
    big();
    big();
    await tick();
    expect(log).toEqual(['big', 'small']);
    (await small)();
    await tick();
    expect(log).toEqual(['big', 'small', 'big2']);
    (await big2)();
  });
});
