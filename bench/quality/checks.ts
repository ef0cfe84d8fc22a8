// The targets the quality bench checks, each a comparison of one measured figure with a bound:
//   - plate against the oracle naive key: SAD <= 0.5x on every class of the generated, real and
//     transplant sets (real textures too), flicker <= 1/3 on the clip;
//   - the default model: on transplanted real textures SAD <= 0.5x naive, interior mean >= 0.97,
//     background mean <= 0.02 per image; on the real capture pairs interior mean >= 0.97 and
//     exterior mean <= 0.02 per frame (drawn trimaps);
//   - a fused model (when installed): SAD at most the smaller of plate's and rvm's wherever a person
//     model applies, never above plate's where it does not (objects, transplants); flicker <= rvm's
//     on the generated and the real static clip; on the moving clip SAD <= 1.02x the fused model
//     with its temporal filter off.
// results.pass is true when every check passes.
import type { QualityResults, Scores, SetResult } from './results.js';
import { NO_FILTER } from './temporal-cases.js';
import { NAIVE } from './variants.js';

export interface Check {
  /** What is compared, e.g. "SAD / naive", "interior mean". */
  readonly what: string;
  readonly set: string;
  /** The class, image or frame checked. */
  readonly subject: string;
  readonly model: string;
  readonly value: number;
  readonly op: '<=' | '>=';
  readonly target: number;
  /** The figures behind a ratio, in words. */
  readonly detail: string;
  readonly pass: boolean;
}

export const PLATE = 'plate';
const SAD_TARGET = 0.5;
const FLICKER_TARGET = 1 / 3;
const MOVING_SAD_TARGET = 1.02;
export const INTERIOR_TARGET = 0.97;
export const BACKGROUND_TARGET = 0.02;

/** The models the checks are about: by name, as the variants are named. */
export interface CheckedModels {
  readonly defaultModel: string;
  /** Variant names of fused and rvm models, when installed. */
  readonly fused?: string;
  readonly rvm?: string;
}

type Input = Pick<QualityResults, 'sets' | 'temporal' | 'capturePairs'>;

function check(what: string, set: string, subject: string, model: string, value: number, op: '<=' | '>=', target: number, detail = ''): Check {
  return { what, set, subject, model, value, op, target, detail, pass: op === '<=' ? value <= target : value >= target };
}

const f3 = (x: number) => x.toFixed(3);

/** SAD of `model` over the smallest of `others`' SADs. */
function sadAgainst(what: string, set: string, subject: string, model: string, byModel: Record<string, Scores>, others: string[], target: number): Check[] {
  const mine = byModel[model];
  const refs = others.filter((o) => byModel[o]);
  if (!mine || refs.length === 0) return [];
  const ref = Math.min(...refs.map((o) => byModel[o]!.sad));
  return [check(what, set, subject, model, mine.sad / ref, '<=', target, `${model} ${f3(mine.sad)}, ${refs.map((o) => `${o} ${f3(byModel[o]!.sad)}`).join(', ')}`)];
}

function regionChecks(set: string, subject: string, model: string, s: Scores | undefined): Check[] {
  if (!s) return [];
  return [
    ...(s.interior !== null ? [check('interior mean', set, subject, model, s.interior, '>=', INTERIOR_TARGET)] : []),
    ...(s.background !== null ? [check('background mean', set, subject, model, s.background, '<=', BACKGROUND_TARGET)] : []),
  ];
}

function setChecks(s: SetResult, m: CheckedModels): Check[] {
  const out: Check[] = [];
  const personRefs = [PLATE, ...(m.rvm ? [m.rvm] : [])];
  if (s.kind !== 'disagree') {
    for (const [cls, byModel] of Object.entries(s.summary)) out.push(...sadAgainst('SAD / naive', s.id, cls, PLATE, byModel, [NAIVE], SAD_TARGET));
  }
  if (s.kind === 'transplant') {
    for (const img of s.images) {
      const subject = `${img.image} / ${img.perturbation}`;
      if (m.defaultModel !== PLATE) out.push(...sadAgainst('SAD / naive', s.id, subject, m.defaultModel, img.scores, [NAIVE], SAD_TARGET));
      out.push(...regionChecks(s.id, subject, m.defaultModel, img.scores[m.defaultModel]));
    }
  }
  if (!m.fused) return out;
  if (s.kind === 'generated') {
    for (const [cls, byModel] of Object.entries(s.summary)) out.push(...sadAgainst('SAD / min(plate, rvm)', s.id, cls, m.fused, byModel, personRefs, 1));
  } else if (s.kind === 'transplant') {
    for (const [cls, byModel] of Object.entries(s.summary)) out.push(...sadAgainst('SAD / plate', s.id, cls, m.fused, byModel, [PLATE], 1));
  } else if (s.kind === 'disagree') {
    for (const img of s.images) {
      const person = img.subject === 'person-like';
      out.push(...sadAgainst(person ? 'SAD / min(plate, rvm)' : 'SAD / plate', s.id, `${img.image} / ${img.perturbation}`, m.fused, img.scores, person ? personRefs : [PLATE], 1));
    }
  }
  return out;
}

export function qualityChecks(r: Input, m: CheckedModels): Check[] {
  const out = r.sets.flatMap((s) => setChecks(s, m));
  const flicker = (a: string | undefined, b: string | undefined, target: number) => {
    const fa = a ? r.temporal?.flicker[a] : undefined;
    const fb = b ? r.temporal?.flicker[b] : undefined;
    if (fa && fb) out.push(check(`flicker / ${b}`, 'temporal', 'all pixels', a!, fa.all / fb.all, '<=', target, `${a} ${f3(fa.all)}, ${b} ${f3(fb.all)}`));
  };
  flicker(PLATE, NAIVE, FLICKER_TARGET);
  flicker(m.fused, m.rvm, 1);
  // The further clips: a real static scene (flicker no worse than rvm's) and a moving subject (the
  // temporal filter does not drag edges: SAD at most 2% above the fused model without it).
  for (const c of r.temporal?.cases ?? []) {
    const a = m.fused ? c.scores[m.fused] : undefined;
    const rv = m.rvm ? c.scores[m.rvm] : undefined;
    const nf = c.scores[NO_FILTER];
    if (a && rv && a.sad === null) out.push(check(`flicker / ${m.rvm}`, 'temporal', c.name, m.fused!, a.flicker / rv.flicker, '<=', 1, `${m.fused} ${f3(a.flicker)}, ${m.rvm} ${f3(rv.flicker)}`));
    if (a && nf && a.sad !== null && nf.sad !== null)
      out.push(check(`SAD / ${NO_FILTER}`, 'temporal', c.name, m.fused!, a.sad / nf.sad, '<=', MOVING_SAD_TARGET, `${m.fused} ${f3(a.sad)}, ${NO_FILTER} ${f3(nf.sad)}`));
  }
  for (const p of r.capturePairs?.images ?? []) {
    const t = p.models[m.defaultModel]?.trimap;
    if (!t) continue;
    out.push(check('interior mean', 'capture pairs', p.name, m.defaultModel, t.interiorMean, '>=', INTERIOR_TARGET, `holes ${(100 * t.holes).toFixed(2)}%`));
    out.push(check('exterior mean', 'capture pairs', p.name, m.defaultModel, t.exteriorMean, '<=', BACKGROUND_TARGET, `leaks ${(100 * t.leaks).toFixed(2)}%`));
  }
  return out;
}
