// Two inference workers (src/engine/matting/ort-transport.ts): with two runs allowed at once
// (CLEANPLATE_PARALLEL=2) the fused model's learned prior runs in the second worker while the plate
// graph runs in the first, so their runs overlap in time, as each worker's own clock shows; with
// CLEANPLATE_PARALLEL=1 every run is in the first worker, one after another. A worker that dies
// fails the run that used it and is replaced; the other worker carries on with its sessions.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { WorkerCrashError } from '../../src/engine/workers/client.js';
import { inferenceWorkers, onInferenceRun, type RunSpan } from '../../src/engine/matting/ort-transport.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { personFrame, rvmModelsDir } from '../support/rvm.js';

const W = 640;
const H = 360;
const frame = personFrame(W, H);
const plate = personFrame(W, H, 10_000);

let registry: ModelRegistry;
const saved = process.env.CLEANPLATE_PARALLEL;
const opened: MattingSession[] = [];

beforeAll(async () => {
  registry = await ModelRegistry.load(await rvmModelsDir());
});
afterEach(() => {
  if (saved === undefined) delete process.env.CLEANPLATE_PARALLEL;
  else process.env.CLEANPLATE_PARALLEL = saved;
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.dispose()));
  await removeTempDirs();
});

/** A fused session opened with CLEANPLATE_PARALLEL set to `parallel` (a session keeps its workers). */
async function fusedWith(parallel: '1' | '2'): Promise<MattingSession> {
  process.env.CLEANPLATE_PARALLEL = parallel;
  const session = await registry.open('fused');
  opened.push(session);
  return session;
}

/** The spans of the runs `fn` makes. */
async function spansOf(fn: () => Promise<unknown>): Promise<RunSpan[]> {
  const spans: RunSpan[] = [];
  const stop = onInferenceRun((s) => spans.push(s));
  try {
    await fn();
  } finally {
    stop();
  }
  return spans;
}

const overlap = (a: RunSpan, b: RunSpan): boolean => a.startedAt < b.endedAt && b.startedAt < a.endedAt;

/** Pairs of runs, one from each worker, that were running at the same time. */
function overlapping(spans: readonly RunSpan[]): [RunSpan, RunSpan][] {
  const pairs: [RunSpan, RunSpan][] = [];
  for (const a of spans) for (const b of spans) if (a !== b && a.worker === 0 && b.worker === 1 && overlap(a, b)) pairs.push([a, b]);
  return pairs;
}

describe('two inference workers', () => {
  it('parallel 2: a fused still runs its prior in the second worker at the same time as the plate graph in the first', async () => {
    const fused = await fusedWith('2');
    await fused.run(frame, plate); // compiles the graphs of this size
    const spans = await spansOf(async () => {
      for (let i = 0; i < 3; i++) await fused.run(frame, plate);
    });
    expect(new Set(spans.map((s) => s.worker))).toEqual(new Set([0, 1]));
    expect(overlapping(spans).length, JSON.stringify(spans)).toBeGreaterThan(0);
  }, 120_000);

  it("parallel 2: in a clip the prior of a frame overlaps that frame's plate graph", async () => {
    const fused = await fusedWith('2');
    const sequence = new FrameSequence();
    const spans = await spansOf(async () => {
      // A moving figure: the prior runs on every frame (priorMotion), not only every third.
      for (let i = 0; i < 4; i++) await fused.run(personFrame(W, H, 40 * i), plate, { sequence });
    });
    expect(spans.filter((s) => s.worker === 1).length).toBeGreaterThanOrEqual(4);
    expect(overlapping(spans).length, JSON.stringify(spans)).toBeGreaterThan(0);
  }, 120_000);

  it('parallel 1: every run is in the first worker and none overlaps another; the matte is the same', async () => {
    const one = await fusedWith('1');
    await one.run(frame, plate);
    let result;
    const spans = await spansOf(async () => {
      result = await one.run(frame, plate);
    });
    expect(spans.length).toBeGreaterThan(2);
    expect(spans.every((s) => s.worker === 0)).toBe(true);
    for (const a of spans) for (const b of spans) if (a !== b) expect(overlap(a, b)).toBe(false);
    const two = await fusedWith('2');
    const want = await two.run(frame, plate);
    expect(Buffer.compare(Buffer.from(result!.alpha.data), Buffer.from(want.alpha.data))).toBe(0);
  }, 120_000);

  for (const index of [1, 0]) {
    it(`worker ${index} dying mid-run fails that run with worker_crashed; only it is replaced and the next run works`, async () => {
      const fused = await fusedWith('2');
      await fused.run(frame, plate);
      const workers = inferenceWorkers();
      const victim = workers[index]!;
      const other = workers[1 - index]!;
      const [victimThread, otherThread] = [victim.threadId, other.threadId];
      expect(victimThread).toBeDefined();
      expect(otherThread).toBeDefined();
      const run = fused.run(frame, plate);
      // kill() drops the answer of the run in progress, as a crash would lose it.
      await expect.poll(() => victim.inFlight, { timeout: 30_000, interval: 1 }).toBeGreaterThan(0);
      await victim.kill();
      const error = await run.then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error).toBeInstanceOf(WorkerCrashError);
      expect((error as WorkerCrashError).code).toBe('worker_crashed');
      const again = await fused.run(frame, plate);
      expect(again.alpha.data.length).toBe(W * H);
      expect(victim.threadId).toBeDefined();
      expect(victim.threadId).not.toBe(victimThread);
      expect(other.threadId).toBe(otherThread);
    }, 120_000);
  }
});
