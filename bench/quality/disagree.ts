// Generated scenes where the plate and a learned person prior disagree, so the bench can tell
// plate, rvm and a fused model apart:
//   camouflage    a person-like subject whose torso, in one region, is exactly the plate's colour
//                 (the plate cannot see it there; only a prior can fill it)
//   object        a subject that is not a person (a mug with a handle hole): a person model has no say
//   plate-person  a person-like poster that is part of the plate, beside the real subject: it is
//                 background, whatever a person model says
import { makeScene } from '../../src/eval/synthetic.js';
import type { GroundTruthImage } from './datasets.js';

/** Whether a person model applies to the subject (the bench's checks differ). */
export type SubjectKind = 'person-like' | 'object';

export interface DisagreementImage extends GroundTruthImage {
  readonly subject: SubjectKind;
}

export function disagreementScenes(width: number, height: number): DisagreementImage[] {
  const W = width;
  const H = height;
  const s = Math.min(W, H);
  const base = makeScene('base', { width: W, height: H, noise: 0, softEdge: 2, seed: 21 });
  const plateRgb = (i: number, k: number) => base.plate.data[3 * i + k]! / 255;

  // camouflage: the subject's torso wears the plate's own pixels inside an ellipse.
  const camoFg = new Float32Array(base.foreground);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const u = (x - 0.45 * W) / (0.12 * s);
      const v = (y - 0.82 * H) / (0.1 * s);
      if (u * u + v * v >= 1) continue;
      const i = y * W + x;
      for (let k = 0; k < 3; k++) camoFg[3 * i + k] = plateRgb(i, k);
    }
  }

  // object: a mug, body with rounded corners and a ring handle (a hole through it), blue glaze.
  const mugAlpha = new Float32Array(W * H);
  const mugFg = new Float32Array(W * H * 3);
  const smooth = (d: number) => Math.min(1, Math.max(0, 0.5 - d)); // ~1 px anti-aliased edge
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const i = y * W + x;
      const bx = Math.max(Math.abs(x - 0.42 * W) - 0.12 * s, 0);
      const by = Math.max(Math.abs(y - 0.6 * H) - 0.22 * s, 0);
      const body = smooth(Math.hypot(bx, by) - 0.04 * s);
      const ring = Math.abs(Math.hypot(x - (0.42 * W + 0.17 * s), y - 0.58 * H) - 0.1 * s);
      const handle = x > 0.42 * W + 0.15 * s ? smooth(ring - 0.025 * s) : 0;
      mugAlpha[i] = Math.max(body, handle);
      mugFg[3 * i] = 0.15 + 0.05 * Math.sin(y * 0.3);
      mugFg[3 * i + 1] = 0.3 + 0.05 * Math.sin(x * 0.2);
      mugFg[3 * i + 2] = 0.75;
    }
  }

  // plate-person: the subject shape shrunk into a poster on the left of the plate, same colours.
  const poster = new Uint8Array(base.plate.data);
  const k = 0.45;
  const ox = 0.02 * W;
  const oy = 0.3 * H;
  for (let y = Math.floor(oy); y < Math.min(H, oy + k * H); y++) {
    for (let x = Math.floor(ox); x < Math.min(W, ox + k * W); x++) {
      const sx = Math.min(W - 1, Math.round((x - ox) / k));
      const sy = Math.min(H - 1, Math.round((y - oy) / k));
      const j = sy * W + sx;
      const a = base.alpha[j]!;
      const i = y * W + x;
      for (let c = 0; c < 3; c++) poster[3 * i + c] = Math.round(255 * (a * base.foreground[3 * j + c]! + (1 - a) * plateRgb(i, c)));
    }
  }
  const posterPlate = { ...base.plate, data: poster };

  return [
    { name: 'camouflage', subject: 'person-like', plate: base.plate, alpha: base.alpha, foreground: camoFg },
    { name: 'object', subject: 'object', plate: base.plate, alpha: mugAlpha, foreground: mugFg },
    { name: 'plate-person', subject: 'person-like', plate: posterPlate, alpha: base.alpha, foreground: base.foreground },
  ];
}
