// One line on where a clip job's pipeline stages (pipeline/bounded.ts) spent a frame: busy or
// waiting, per stage, in ms per frame. The stage that never waits is the bottleneck.
import type { StageTimes } from '../src/engine/pipeline/bounded.js';

export function stageWaits(t: StageTimes, frames: number): string {
  const f = (v: number): string => (v / frames).toFixed(1);
  const prepare = t.prepare > 0 ? `align ${f(t.prepare)} busy / ${f(t.prepareStarved)} waiting for decode / ${f(t.prepareBlocked)} waiting for the model; ` : '';
  return (
    `ms/frame: decode wait ${f(t.source)}; ${prepare}model ${f(t.transform)} busy / ${f(t.transformStarved)} waiting for input / ${f(t.transformBlocked)} waiting for the encoder; ` +
    `encode ${f(t.sink)} busy / ${f(t.sinkStarved)} waiting for the model`
  );
}
