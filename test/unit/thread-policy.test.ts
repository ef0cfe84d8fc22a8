// The thread policy: onnxruntime gets the cores the job's side work (ffmpeg decode/encode,
// alignment) leaves, CLEANPLATE_THREADS overrides it, and the matting service keeps one session
// per thread count so a still and a clip job on the same model each get theirs.
import { afterEach, describe, expect, it } from 'vitest';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { cpuThreads } from '../../src/engine/matting/providers.js';
import { currentThreadBudget, inferenceThreads, intraOpSpinning, NO_SIDE_WORK, withThreadBudget } from '../../src/engine/matting/thread-policy.js';
import { MattingService } from '../../src/engine/services/matting-service.js';

const CLIP = { decode: true, encode: true, align: true } as const;
const quiet: NodeJS.ProcessEnv = {};

describe('inferenceThreads', () => {
  it('gives a still every core (one on 2 cores) and a clip job what its side work leaves', () => {
    expect(inferenceThreads(NO_SIDE_WORK, 2, quiet)).toBe(1);
    expect(inferenceThreads(NO_SIDE_WORK, 4, quiet)).toBe(4);
    expect(inferenceThreads(CLIP, 2, quiet)).toBe(1);
    expect(inferenceThreads({ decode: true, encode: true }, 2, quiet)).toBe(1);
    expect(inferenceThreads(CLIP, 1, quiet)).toBe(1);
    expect(inferenceThreads({ encode: true }, 4, quiet)).toBe(3);
    expect(inferenceThreads({ decode: true, encode: true }, 4, quiet)).toBe(2);
    expect(inferenceThreads(CLIP, 8, quiet)).toBe(5);
    expect(inferenceThreads(CLIP, 16, quiet)).toBe(13);
  });

  it('CLEANPLATE_THREADS overrides the policy; junk values are ignored', () => {
    expect(inferenceThreads(CLIP, 2, { CLEANPLATE_THREADS: '2' })).toBe(2);
    expect(inferenceThreads(NO_SIDE_WORK, 8, { CLEANPLATE_THREADS: '1' })).toBe(1);
    expect(inferenceThreads(NO_SIDE_WORK, 8, { CLEANPLATE_THREADS: '0' })).toBe(8);
    expect(inferenceThreads(NO_SIDE_WORK, 8, { CLEANPLATE_THREADS: 'many' })).toBe(8);
  });
});

describe('intraOpSpinning', () => {
  it('spins only when onnxruntime has every core, so cores left to the side work are not taken by waiting threads', () => {
    expect(intraOpSpinning(8, 8)).toBe(true);
    expect(intraOpSpinning(5, 8)).toBe(false);
    expect(intraOpSpinning(2, 2)).toBe(true);
    expect(intraOpSpinning(1, 2)).toBe(false);
    expect(intraOpSpinning(inferenceThreads(CLIP, 8, quiet), 8)).toBe(false);
    expect(intraOpSpinning(inferenceThreads(NO_SIDE_WORK, 8, quiet), 8)).toBe(true);
  });
});

describe('thread budget', () => {
  it('follows the call through awaits and ends with it', async () => {
    const env: NodeJS.ProcessEnv = {};
    const seen = await withThreadBudget(3, async () => {
      await new Promise((r) => setTimeout(r, 1));
      return [currentThreadBudget(), cpuThreads(env)];
    });
    expect(seen).toEqual([3, 3]);
    expect(currentThreadBudget()).toBeUndefined();
    expect(withThreadBudget(3, () => cpuThreads({ CLEANPLATE_THREADS: '1' }))).toBe(1);
  });
});

describe('matting service: one session per thread count', () => {
  const saved = process.env.CLEANPLATE_THREADS;
  afterEach(() => {
    if (saved === undefined) delete process.env.CLEANPLATE_THREADS;
    else process.env.CLEANPLATE_THREADS = saved;
  });

  it('a still and a clip job share a session when their thread counts agree and not otherwise; the override makes them one', async () => {
    delete process.env.CLEANPLATE_THREADS;
    const registry = await ModelRegistry.load();
    const matting = new MattingService(registry);
    try {
      const still = await matting.session('plate');
      const clip = await matting.session('plate', CLIP);
      if (inferenceThreads(NO_SIDE_WORK) === inferenceThreads(CLIP)) expect(clip).toBe(still);
      else expect(clip).not.toBe(still);
      expect(await matting.session('plate', CLIP)).toBe(clip);
      process.env.CLEANPLATE_THREADS = '1';
      const forced = new MattingService(registry);
      try {
        expect(await forced.session('plate', CLIP)).toBe(await forced.session('plate'));
      } finally {
        await forced.dispose();
      }
    } finally {
      await matting.dispose();
    }
  });
});
