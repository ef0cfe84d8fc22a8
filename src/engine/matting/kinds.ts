// What each model kind asks of its callers, said once here. The registry publishes it in
// /v1/models; jobs, stills, live sessions and the OBS controller (through /v1/models) read it
// instead of testing kind names. A new kind must add its row (the Record type enforces it).
import type { ModelKind } from '../../shared/api.js';

export interface KindTraits {
  /** Runs need a clean plate (the scene without the subject). */
  readonly needsPlate: boolean;
}

export const KIND_TRAITS: Readonly<Record<ModelKind, KindTraits>> = {
  plate: { needsPlate: true },
  bgmv2: { needsPlate: true },
  // A learned person model: it mattes from the frame alone.
  rvm: { needsPlate: false },
  // The plate's evidence fused with RVM's person prior: it needs the plate.
  fused: { needsPlate: true },
};

export function kindNeedsPlate(kind: ModelKind): boolean {
  return KIND_TRAITS[kind].needsPlate;
}
