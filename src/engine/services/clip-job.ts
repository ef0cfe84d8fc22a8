// One clip job, from request to published files: validate and resolve the request (media,
// range, plate, outputs) into a plan, then run decode -> matte -> encode as a bounded pipeline.
// Persistence, queueing and events are the job service's business, not this module's.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { AlignMode, AlignReport, ClipOutputKind, CompositeOver, FarmProgress, FarmReport, JobMedia, JobRequest } from '../../shared/api.js';
import { DEFAULT_ALIGN_MODE, DEFAULT_CLIP_OUTPUTS } from '../../shared/api.js';
import { createAligner } from '../align/remote-aligner.js';
import { MattingInputError } from '../matting/errors.js';
import type { SideWork } from '../matting/thread-policy.js';
import type { ModelRegistry } from '../matting/registry.js';
import { FrameSequence } from '../matting/types.js';
import { MAX_FRAME_SIDE, MIN_FRAME_SIDE, type Frame } from '../frame.js';
import { decodeFrames } from '../media/decode.js';
import { MediaInputError } from '../media/errors.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import { ClipEncoder, needsForeground, type PublishedOutput } from '../media/encode.js';
import { grabFrame } from '../media/frame-grab.js';
import { frameStart, resolveRange, type FrameSpan } from '../media/frame-range.js';
import { decodeImage } from '../media/image.js';
import type { EncoderRecord } from '../media/leftovers.js';
import { defaultOutputDir, ensureWritableDir } from '../media/output-files.js';
import { probeMedia, type VideoInfo } from '../media/probe.js';
import { runPipeline, type StageTimes } from '../pipeline/bounded.js';
import type { BackgroundStore } from './backgrounds.js';
import type { MattingService } from './matting-service.js';

/** A request field that is missing or malformed (400). */
export class JobRequestError extends Error {
  constructor(
    readonly code: 'missing_field' | 'bad_field',
    message: string,
  ) {
    super(message);
    this.name = 'JobRequestError';
  }
}

export interface ClipPlan {
  readonly info: VideoInfo;
  readonly span: FrameSpan;
  readonly modelId: string;
  readonly plate: Frame | undefined;
  readonly outputs: readonly ClipOutputKind[];
  readonly outputDir: string;
  /** Output path stem, e.g. "<dir>/interview_f120-239" (kind and extension are appended). */
  readonly stem: string;
  readonly composite: CompositeOver | undefined;
  readonly align: AlignMode;
  /** Frames before span.first run through the model (recurrent state) but not written: farm segments. */
  readonly warmUpFrames?: number;
}

export interface PlanDeps {
  readonly tools: MediaTools;
  readonly registry: ModelRegistry;
  readonly backgrounds?: BackgroundStore;
}

async function loadPlate(deps: PlanDeps, request: JobRequest): Promise<Frame | undefined> {
  const b = request.background;
  if (!b) return undefined;
  if ('id' in b) {
    if (!deps.backgrounds) throw new JobRequestError('bad_field', 'stored backgrounds are not available here');
    return deps.backgrounds.frame(b.id);
  }
  if ('imagePath' in b) {
    let bytes: Buffer;
    try {
      bytes = await readFile(b.imagePath);
    } catch {
      throw new MediaInputError('media_not_found', `background image not found: ${b.imagePath}`);
    }
    return decodeImage(bytes, `background ${b.imagePath}`);
  }
  return (await grabFrame(deps.tools, b.mediaPath ?? request.mediaPath, b.timeSeconds)).frame;
}

/** Makes sure a composite background file is something ffmpeg can read. */
async function checkCompositeSource(deps: PlanDeps, over: CompositeOver | undefined): Promise<CompositeOver | undefined> {
  if (!over) return undefined;
  if ('imagePath' in over) await probeMedia(deps.tools, over.imagePath);
  if ('videoPath' in over) await probeMedia(deps.tools, over.videoPath);
  return over;
}

export function jobMedia(plan: ClipPlan): JobMedia {
  const { info, span } = plan;
  return {
    width: info.width,
    height: info.height,
    frameRate: info.frameRateText,
    firstFrame: span.first,
    frameCount: span.count,
    codec: info.codec,
    pixFmt: info.pixFmt,
    bitDepth: info.bitDepth,
    rotation: info.rotation,
  };
}

/** Everything a job needs, checked up front so bad requests fail at POST time with a clear error. */
export async function planClipJob(deps: PlanDeps, request: JobRequest): Promise<ClipPlan> {
  const modelId = request.model ?? deps.registry.defaultId;
  const model = deps.registry.list().find((m) => m.id === modelId);
  if (!model)
    throw new MattingInputError(
      'unknown_model',
      `unknown model "${modelId}"; known: ${deps.registry
        .list()
        .map((m) => m.id)
        .join(', ')}`,
    );
  if (!model.available) throw new MattingInputError('model_unavailable', `model "${modelId}" is not available: ${model.unavailableReason ?? ''}`);
  const info = await probeMedia(deps.tools, request.mediaPath);
  if (info.isStillImage) throw new MediaInputError('not_a_video', `${request.mediaPath} is a still image, not a clip (use it as a plate, or POST /v1/matte)`);
  // The models' frame limits, checked now: a clip outside them is a bad request, not a failed job.
  if (info.width > MAX_FRAME_SIDE || info.height > MAX_FRAME_SIDE) {
    throw new MattingInputError('frame_too_large', `${request.mediaPath} is ${info.width}x${info.height}; the largest accepted side is ${MAX_FRAME_SIDE} pixels`);
  }
  if (info.width < MIN_FRAME_SIDE || info.height < MIN_FRAME_SIDE) {
    throw new MediaInputError('unsupported_frame_size', `${request.mediaPath} is ${info.width}x${info.height}; the smallest accepted size is ${MIN_FRAME_SIDE}x${MIN_FRAME_SIDE}`);
  }
  const span = resolveRange(request.range, info.frameRate, info.frameCount);
  const plate = await loadPlate(deps, request);
  if (model.needsPlate && !plate) {
    throw new MattingInputError('plate_required', `model "${modelId}" needs a clean plate: give background {id} | {imagePath} | {timeSeconds}`);
  }
  if (plate && (plate.width !== info.width || plate.height !== info.height)) {
    throw new MattingInputError('plate_size_mismatch', `the plate is ${plate.width}x${plate.height} but the clip's frames are ${info.width}x${info.height}`);
  }
  const outputs = request.outputs ?? DEFAULT_CLIP_OUTPUTS;
  const prores = outputs.filter((k) => k === 'prores4444' || k === 'matte');
  if (prores.length > 0 && info.width % 2 === 1) {
    // Padding would shift the matte by half a pixel against the source in the editor: refuse.
    throw new MediaInputError(
      'unsupported_frame_size',
      `ProRes (${prores.join(', ')}) needs an even frame width; this clip is ${info.width}x${info.height}. Use the png or composite outputs, or crop/pad the source`,
    );
  }
  const outputDir = request.outputDir ?? defaultOutputDir(request.mediaPath);
  await ensureWritableDir(outputDir);
  const composite = outputs.includes('composite') ? await checkCompositeSource(deps, request.compositeOver) : undefined;
  const base = path.basename(request.mediaPath, path.extname(request.mediaPath));
  const stem = path.join(outputDir, `${base}_f${span.first}-${span.first + span.count - 1}`);
  return { info, span, modelId, plate, outputs, outputDir, stem, composite, align: request.align ?? DEFAULT_ALIGN_MODE };
}

export interface RunHooks {
  readonly signal?: AbortSignal;
  /** Called once the temp files exist and their encoder runs (recorded, for cleanup after a crash). */
  onTempFiles?(paths: readonly string[], encoder: EncoderRecord | undefined): void;
  /** Called after each frame is handed to the encoder (farm jobs: as segments progress, with detail). */
  onFrame?(framesDone: number, farm?: FarmProgress): void;
}

export interface ClipResult {
  readonly outputs: PublishedOutput[];
  readonly times: StageTimes;
  /** Absent when the job has no plate. */
  readonly align?: AlignReport;
  /** Present when the job ran on the render farm. */
  readonly farm?: FarmReport;
}

/** Renders a planned job: runClipJob here, or the render farm (src/engine/farm). */
export type ClipRunner = (tools: MediaTools, matting: Pick<MattingService, 'run'>, plan: ClipPlan, hooks?: RunHooks) => Promise<ClipResult>;

/** Runs a planned job; on failure or abort every temp file is removed and nothing is published. */
/** ffmpeg decodes and encodes beside the model, and OpenCV aligns unless off: sets the model's threads. */
export function clipSideWork(plan: Pick<ClipPlan, 'plate' | 'align'>): SideWork {
  return { decode: true, encode: true, align: plan.plate !== undefined && plan.align !== 'off' };
}

export async function runClipJob(tools: MediaTools, matting: Pick<MattingService, 'run'>, plan: ClipPlan, hooks: RunHooks = {}): Promise<ClipResult> {
  const fg = needsForeground(plan.outputs);
  const { info, span } = plan;
  const warm = plan.warmUpFrames ?? 0;
  const encoder = await ClipEncoder.start(tools, {
    width: info.width,
    height: info.height,
    frameRate: info.frameRate,
    input: fg ? 'rgba' : 'gray',
    outputs: plan.outputs.map((kind) => ({ kind, path: `${plan.stem}_${kind}` })),
    firstFrameNumber: span.first,
    ...(plan.composite ? { compositeBackground: plan.composite } : {}),
    compositeAudio: {
      path: info.path,
      startSeconds: Math.max(0, info.startTime - info.formatStartTime + frameStart(span.first, info.frameRate)),
      durationSeconds: frameStart(span.count, info.frameRate),
    },
    ...(hooks.signal ? { signal: hooks.signal } : {}),
  });
  hooks.onTempFiles?.(encoder.tempPaths, encoder.process);
  // The job's frames in decode order: recurrent models (rvm) carry state from one to the next.
  const sequence = new FrameSequence();
  // Per frame, smoothed over time; a static camera gets the same plate object every frame.
  const aligner = plan.plate ? createAligner(plan.plate, { mode: plan.align, video: true }) : undefined;
  const work = clipSideWork(plan);
  try {
    const times = await runPipeline({
      capacity: 2,
      ...(hooks.signal ? { signal: hooks.signal } : {}),
      source: (signal) => decodeFrames(tools, info, { first: span.first - warm, count: span.count + warm }, { signal }),
      // Alignment of frame N+1 is its own stage (in the align worker) and overlaps the model's run
      // on frame N (in the inference worker); frames stay in decode order, so the aligner's
      // tracking holds.
      prepare: async (frame) => ({ frame, plate: aligner ? await aligner.plateFor(frame) : undefined }),
      transform: async ({ frame, plate }) => {
        const { result } = await matting.run(plan.modelId, frame, plate, { foreground: fg, sequence }, work);
        if (fg && !result.foreground) throw new Error(`model "${plan.modelId}" returned no foreground`);
        return fg ? result.foreground!.data : result.alpha.data;
      },
      sink: async (data, i) => {
        if (i < warm) return;
        await encoder.write(data);
        hooks.onFrame?.(i - warm + 1);
      },
    });
    return { outputs: await encoder.finish(), times, ...(aligner ? { align: aligner.report() } : {}) };
  } catch (err) {
    await encoder.abort();
    throw err;
  } finally {
    aligner?.close();
  }
}
