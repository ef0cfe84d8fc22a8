// The fusion rules of the `fused` model, on its fusion graph with hand-made plate and RVM alphas:
// the plate's subject stays (person or not), a textured region the frame reproduces stays
// background even where RVM says person (a poster in the plate), RVM fills where the plate cannot
// tell (a flat subject over a textured plate), and the foreground follows the compositing equation.
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { buildFusionGraph } from '../../src/engine/matting/fused/graph.js';
import { defaultPlateSettings } from '../../src/engine/matting/plate/settings.js';
import type { Frame } from '../../src/engine/frame.js';

const W = 256;
const H = 128;

/** A plate with strong texture (brick-like blotches, +-40 levels) around mid-grey. */
function brickPlate(): Frame {
  const data = new Uint8Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const v = 128 + 40 * Math.sin(x / 3.1) * Math.cos(y / 2.3);
      data.set([v + 10, v, v - 10], (y * W + x) * 3);
    }
  }
  return { data, width: W, height: H, channels: 3 };
}

describe('fused model: fusion graph', () => {
  it('keeps the plate subject, rejects RVM on a reproduced textured plate, fills where the plate cannot tell', async () => {
    const plate = brickPlate();
    const frame = Uint8Array.from(plate.data);
    const aPlate = new Uint8Array(W * H);
    const aRvm = new Uint8Array(W * H);
    const at = (x: number, y: number) => y * W + x;
    for (let y = 32; y < 96; y++) {
      for (let x = 0; x < W; x++) {
        if (x >= 16 && x < 80) {
          // A non-person subject the plate sees and RVM does not: flat red.
          frame.set([220, 30, 30], at(x, y) * 3);
          aPlate[at(x, y)] = 255;
        } else if (x >= 96 && x < 160) {
          // A "person" RVM sees that is part of the plate: the frame is the plate.
          aRvm[at(x, y)] = 255;
        } else if (x >= 176 && x < 240) {
          // A person the plate misses (camouflage): flat, the plate's mean colour, no texture.
          frame.set([128, 128, 128], at(x, y) * 3);
          aRvm[at(x, y)] = 255;
        }
      }
    }
    const session = await ort.InferenceSession.create(buildFusionGraph({ width: W, height: H, channels: 3, foreground: true, plateSettings: defaultPlateSettings }));
    try {
      const out = await session.run({
        src: new ort.Tensor('uint8', frame, [H, W, 3]),
        bgr: new ort.Tensor('uint8', plate.data, [H, W, 3]),
        alpha_plate: new ort.Tensor('uint8', aPlate, [H, W]),
        alpha_rvm: new ort.Tensor('uint8', aRvm, [1, H, W, 1]),
      });
      const alpha = out.alpha!.data as Uint8Array;
      const mean = (x0: number, x1: number) => {
        let s = 0;
        for (let y = 48; y < 80; y++) for (let x = x0; x < x1; x++) s += alpha[at(x, y)]!;
        return s / (32 * (x1 - x0) * 255);
      };
      expect(mean(32, 64)).toBeGreaterThan(0.99); // plate's subject
      expect(mean(112, 144)).toBeLessThan(0.02); // RVM's person that is the plate
      expect(mean(192, 224)).toBeGreaterThan(0.99); // RVM fills the plate's hole
      expect(mean(0, 8)).toBeLessThan(0.01); // background
      // Opaque: the foreground is the frame; RGBA carries the fused alpha.
      const fgr = out.fgr!.data as Uint8Array;
      const i = at(200, 64);
      expect([...fgr.subarray(i * 4, i * 4 + 4)]).toEqual([128, 128, 128, alpha[i]]);
    } finally {
      await session.release();
    }
  });
});
