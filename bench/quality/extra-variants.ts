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
import type { VariantFactory } from './variants.js';

// (The capture pairs align the plate for every model since issue 13, so the former
// "plate align:on" variant is the plain plate column there now.)
export const extraVariants: VariantFactory[] = [];
