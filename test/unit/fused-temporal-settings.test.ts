// The fused model's temporal settings from a manifest entry: merged over the defaults, and a bad
// value refused with a message that names the setting (the engine would otherwise fail later, per frame).
import { describe, expect, it } from 'vitest';
import { fusedSettings } from '../../src/engine/matting/fused/session.js';
import { defaultTemporalSettings } from '../../src/engine/matting/fused/temporal.js';
import type { ManifestEntry } from '../../src/engine/matting/manifest.js';

const entry = (temporal: unknown) => ({ id: 'fused', kind: 'fused', file: 'rvm.onnx', settings: { temporal } }) as unknown as ManifestEntry;

describe('fused temporal settings', () => {
  it('merges a partial entry over the defaults', () => {
    expect(fusedSettings(entry(undefined)).temporal).toEqual(defaultTemporalSettings);
    expect(fusedSettings(entry({ rest: 1 })).temporal).toEqual({ ...defaultTemporalSettings, rest: 1 });
  });

  it.each([
    [{ rest: 0 }, /temporal\.rest/],
    [{ rest: 1.5 }, /temporal\.rest/],
    [{ block: 2.5 }, /temporal\.block/],
    [{ change: [8, 3] }, /temporal\.change/],
    [{ jump: [0.3, 1.2] }, /temporal\.jump/],
    [{ jump: 'fast' }, /temporal\.jump/],
  ])('refuses %j', (temporal, message) => {
    expect(() => fusedSettings(entry(temporal))).toThrow(message);
  });
});
