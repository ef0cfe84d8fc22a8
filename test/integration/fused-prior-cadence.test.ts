// The fused model's learned prior in a clip: it runs at least every `priorEvery` frames and early
// when the frame has moved on from the one it saw; in between its last alpha is reused (the plate
// model runs on every frame). The prior is the real converted RVM, counted through a thin wrapper.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FusedSession, fusedSettings } from '../../src/engine/matting/fused/session.js';
import { PlateSession } from '../../src/engine/matting/plate/session.js';
import { ModelRegistry } from '../../src/engine/matting/registry.js';
import { openRvmSession } from '../../src/engine/matting/rvm/session.js';
import { FrameSequence, type MattingSession } from '../../src/engine/matting/types.js';
import { removeTempDirs } from '../support/bgmv2-models.js';
import { personFrame, rvmModelsDir } from '../support/rvm.js';

const W = 192;
const H = 108;
const plate = personFrame(W, H, 10_000);

let rvm: MattingSession;
let priorRuns = 0;
let fused: FusedSession;

beforeAll(async () => {
  const modelsDir = await rvmModelsDir();
  const registry = await ModelRegistry.load(modelsDir);
  const entry = registry.entry('fused')!;
  rvm = await openRvmSession({ ...entry, kind: 'rvm', settings: {} }, { modelsDir });
  const counted: MattingSession = {
    kind: rvm.kind,
    modelId: rvm.modelId,
    needsPlate: rvm.needsPlate,
    provider: rvm.provider,
    fallbacks: rvm.fallbacks,
    run: (...args) => {
      priorRuns++;
      return rvm.run(...args);
    },
    dispose: () => rvm.dispose(),
  };
  const settings = fusedSettings({ ...entry, settings: { ...entry.settings, priorEvery: 3 } });
  fused = new FusedSession('fused', settings, new PlateSession('fused/plate', settings.plate), counted);
});
afterAll(async () => {
  await fused?.dispose();
  await removeTempDirs();
});

describe('fused prior cadence', () => {
  it('a still clip runs the prior every third frame and reuses its alpha in between; stills run it every time', async () => {
    const frame = personFrame(W, H);
    const sequence = new FrameSequence();
    priorRuns = 0;
    const alphas: Uint8Array[] = [];
    for (let i = 0; i < 7; i++) alphas.push((await fused.run(frame, plate, { sequence, foreground: false })).alpha.data);
    expect(priorRuns).toBe(3); // frames 0, 3 and 6
    expect(alphas[1]).toEqual(alphas[0]);
    expect(alphas[2]).toEqual(alphas[0]);
    expect(alphas[0]![Math.round(H * 0.6) * W + W / 2]).toBeGreaterThan(240);
    priorRuns = 0;
    await fused.run(frame, plate);
    await fused.run(frame, plate);
    expect(priorRuns).toBe(2);
  });

  it('runs the prior again as soon as the subject moves, and when the frame size changes', async () => {
    const sequence = new FrameSequence();
    priorRuns = 0;
    for (let i = 0; i < 4; i++) await fused.run(personFrame(W, H, i * 8), plate, { sequence, foreground: false });
    expect(priorRuns).toBe(4);
    priorRuns = 0;
    await fused.run(personFrame(W / 2, H / 2), personFrame(W / 2, H / 2, 10_000), { sequence, foreground: false });
    expect(priorRuns).toBe(1);
  });
});
