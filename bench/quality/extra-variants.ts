// Extra model variants for `npm run bench:quality`, run next to the installed models and the naive
// key: each gets its columns in the tables and contact sheets. Add a factory here, e.g. the plate
// model with its plate aligned to the frame first, limited to the real capture pairs:
//
//   export const extraVariants: VariantFactory[] = [
//     async (registry) => {
//       const session = await registry.open('plate');
//       return {
//         name: 'plate align:on',
//         sets: ['pairs'],
//         run: async (frame, plate) => session.run(frame, await alignPlate(plate, frame)),
//         dispose: () => session.dispose(),
//       };
//     },
//   ];
import { PlateAligner } from '../../src/engine/align/aligner.js';
import type { VariantFactory } from './variants.js';

export const extraVariants: VariantFactory[] = [
  // Plate alignment (issue 9): the plate model with its plate warped and exposure-matched to each
  // frame first, next to the plain `plate` column (align off) on the hand-held capture pairs.
  async (registry) => {
    const session = await registry.open('plate');
    return {
      name: 'plate align:on',
      description: 'plate model after plate alignment (homography from ORB matches + MAGSAC, LK refinement, gain/offset), src/engine/align',
      sets: ['pairs'],
      run: async (frame, plate) => {
        const aligned = await new PlateAligner(plate, { mode: 'on' }).plateFor(frame);
        const r = await session.run(frame, aligned, { foreground: true });
        return { alpha: r.alpha, ...(r.foreground ? { foreground: r.foreground } : {}) };
      },
      dispose: () => session.dispose(),
    };
  },
];
