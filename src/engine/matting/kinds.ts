// What each model kind asks of its callers, said once here. The registry publishes it in
// /v1/models; jobs, stills, live sessions and the OBS controller (through /v1/models) read it
// instead of testing kind names. A new kind must add its row (the Record type enforces it).
import type { ModelKind } from '../../shared/api.js';

export interface KindTraits {
  /** Runs need a clean plate (the scene without the subject). */
  readonly needsPlate: boolean;
  /** The network its file holds (null: built at run time, no file): fused runs an rvm file as its learned part. */
  readonly network: 'bgmv2' | 'rvm' | null;
}

export const KIND_TRAITS: Readonly<Record<ModelKind, KindTraits>> = {
  plate: { needsPlate: true, network: null },
  bgmv2: { needsPlate: true, network: 'bgmv2' },
  // A learned person model: it mattes from the frame alone.
  rvm: { needsPlate: false, network: 'rvm' },
  // The plate's evidence fused with RVM's person prior: it needs the plate.
  fused: { needsPlate: true, network: 'rvm' },
};

export function kindNeedsPlate(kind: ModelKind): boolean {
  return KIND_TRAITS[kind].needsPlate;
}

/** The network a model kind's file holds (null: no file). */
export function kindNetwork(kind: ModelKind): KindTraits['network'] {
  return KIND_TRAITS[kind].network;
}
