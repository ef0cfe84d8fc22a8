// Worker thread that runs plate alignment (./remote-aligner.ts): OpenCV's feature matching and
// the warp of the plate take tens of milliseconds a frame, which on the engine's thread kept the
// model from starting on the next frame. Each aligner keeps its tracking state here.
import type { AlignReport } from '../../shared/api.js';
import type { Frame } from '../frame.js';
import { serve } from '../workers/serve.js';
import { PlateAligner, type AlignerOptions } from './aligner.js';

/** What plateFor answers: the plate as given, the same aligned plate as last time, or a new one. */
export type AlignAnswer = { readonly plate: 'given' | 'same'; readonly report: AlignReport } | { readonly plate: 'new'; readonly frame: Frame; readonly report: AlignReport };

const aligners = new Map<number, { readonly aligner: PlateAligner; last: Frame | undefined }>();

function entry(id: number): { readonly aligner: PlateAligner; last: Frame | undefined } {
  const e = aligners.get(id);
  if (!e) throw new Error(`aligner ${id} is not open in this worker`);
  return e;
}

serve({
  create: (p: { id: number; plate: Frame; options: AlignerOptions }) => {
    aligners.set(p.id, { aligner: new PlateAligner(p.plate, p.options), last: undefined });
    return { result: null };
  },
  plateFor: async (p: { id: number; frame: Frame }) => {
    const e = entry(p.id);
    const out = await e.aligner.plateFor(p.frame);
    const report = e.aligner.report();
    if (out === e.aligner.plate) return { result: { plate: 'given', report } satisfies AlignAnswer };
    if (out === e.last) return { result: { plate: 'same', report } satisfies AlignAnswer };
    // The aligner never reads its rendered plate again (it renders from the plate it was given),
    // so the buffer moves to the engine without a copy.
    e.last = out;
    return { result: { plate: 'new', frame: out, report } satisfies AlignAnswer, transfer: [out.data.buffer as ArrayBuffer] };
  },
  dispose: (p: { id: number }) => {
    aligners.delete(p.id);
    return { result: null };
  },
});
