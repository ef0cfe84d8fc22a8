// Matting one still image into the requested PNG outputs: shared by POST /v1/matte and the
// `cleanplate matte` CLI so both check input and encode results the same way.
import { DEFAULT_ALIGN_MODE, MATTE_OUTPUTS, type AlignMode, type AlignReport, type MatteOutput } from '../../shared/api.js';
import { createAligner } from '../align/remote-aligner.js';
import { MattingInputError } from '../matting/errors.js';
import type { Frame } from '../frame.js';
import { encodeCompositeOverPng, encodeCompositePng, encodePng } from '../media/image.js';
import type { MattingService } from './matting-service.js';

export interface StillRequest {
  readonly image: Frame;
  readonly plate?: Frame;
  /** Model id; the default model when omitted. */
  readonly model?: string;
  readonly outputs: readonly MatteOutput[];
  readonly compositeColor: { r: number; g: number; b: number };
  /** An encoded image behind the subject in "composite" instead of the colour (covers the frame). */
  readonly compositeOver?: Uint8Array;
  /** Plate alignment (default auto). */
  readonly align?: AlignMode;
}

export interface StillResult {
  readonly model: string;
  readonly provider: string;
  readonly width: number;
  readonly height: number;
  readonly ms: number;
  readonly png: Partial<Record<MatteOutput, Buffer>>;
  /** Absent when the model takes no plate. */
  readonly align?: AlignReport;
}

/** "alpha,composite" -> ['alpha', 'composite'] (deduplicated); undefined when a name is unknown or none given. */
export function parseOutputs(text: string): MatteOutput[] | undefined {
  const names = text
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
  if (names.length === 0 || !names.every((n) => (MATTE_OUTPUTS as readonly string[]).includes(n))) return undefined;
  return MATTE_OUTPUTS.filter((o) => names.includes(o));
}

export async function matteStill(matting: MattingService, req: StillRequest): Promise<StillResult> {
  const session = await matting.session(req.model);
  if (session.needsPlate && !req.plate) {
    throw new MattingInputError('plate_required', `model "${session.modelId}" needs a background plate (the scene without the subject)`);
  }
  const plate = session.needsPlate ? req.plate : undefined;
  if (plate && (plate.width !== req.image.width || plate.height !== req.image.height)) {
    throw new MattingInputError('plate_size_mismatch', `the plate (background) is ${plate.width}x${plate.height} but the image is ${req.image.width}x${req.image.height}: they must be the same size`);
  }
  // In the align worker: a large still's warp would hold the engine's thread for seconds.
  const aligner = plate ? createAligner(plate, { mode: req.align ?? DEFAULT_ALIGN_MODE }) : undefined;
  let alignedPlate: Frame | undefined;
  try {
    alignedPlate = aligner ? await aligner.plateFor(req.image) : undefined;
  } finally {
    aligner?.close();
  }
  const wantForeground = req.outputs.includes('foreground') || req.outputs.includes('composite');
  const { result, modelId, provider, ms } = await matting.run(session.modelId, req.image, alignedPlate, { foreground: wantForeground });
  const png: Partial<Record<MatteOutput, Buffer>> = {};
  const foreground = result.foreground;
  if (wantForeground && !foreground) throw new Error(`model "${modelId}" returned no foreground`);
  await Promise.all(
    req.outputs.map(async (output) => {
      if (output === 'alpha') png.alpha = await encodePng(result.alpha);
      else if (output === 'foreground') png.foreground = await encodePng(foreground!);
      else png.composite = req.compositeOver ? await encodeCompositeOverPng(foreground!, req.compositeOver) : await encodeCompositePng(foreground!, req.compositeColor);
    }),
  );
  return {
    model: modelId,
    provider,
    width: req.image.width,
    height: req.image.height,
    ms: Math.round(ms * 10) / 10,
    png,
    ...(aligner ? { align: aligner.report() } : {}),
  };
}
