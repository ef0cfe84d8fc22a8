// MattingSession for the `fused` model: the plate model and RVM run on the same frame, and a small
// fusion graph (./graph.ts) combines their alphas by what the plate can tell at each place.
// RVM runs on a downscaled frame at a smaller inner size than on its own (its cost falls with
// the square of both; the plate supplies full-resolution detail where it is informative), and
// keeps its recurrent state in the caller's FrameSequence as rvm does.
import * as ort from 'onnxruntime-node';
import { MattingInputError } from '../errors.js';
import { checkFrame } from '../check-frame.js';
import { kindNeedsPlate } from '../kinds.js';
import type { ManifestEntry } from '../manifest.js';
import { ARENA_MAX_PIXELS, openOrtSession, type ProviderName } from '../providers.js';
import { withInferenceLane, type InferenceLane, type OrtSession } from '../ort-transport.js';
import { defaultPlateSettings, type PlateSettings } from '../plate/graph.js';
import { PlateSession } from '../plate/session.js';
import { autoDownsampleRatio, openRvmSession } from '../rvm/session.js';
import type { ProviderFallback } from '../../../shared/api.js';
import { FrameSequence, type MatteResult, type MattingSession, type RunOptions } from '../types.js';
import type { Frame } from '../../frame.js';
import { buildFusionGraph, buildPriorInputGraph, defaultFusionSettings, type FusionSettings } from './graph.js';
import { blockGrid, buildTemporalGraph, defaultTemporalSettings, temporalSettingsProblem, type TemporalSettings } from './temporal.js';

export interface FusedSettings {
  /** Long side (pixels) the learned prior's network sees; RVM alone uses 512. */
  readonly priorLongSide: number;
  /** Long side of the frame the learned prior is given (downscaled first; 0 = the full frame): its
   * full-resolution stages (guided-filter upsampling, wrapper) then cost a fraction, and its alpha
   * is upsampled in the fusion graph. The plate supplies full-resolution detail where it can. */
  readonly priorFrameSide: number;
  /** In a clip or live session, the learned prior runs at least every this many frames (1 = every
   * frame); in between its last alpha is reused while the frame stays close to the one it saw. */
  readonly priorEvery: number;
  /** Share of sampled pixels (0..1) that may have changed (max channel difference over
   * PRIOR_MOTION_LEVELS) since the prior's frame before it runs again early. 0.003 lets a subject
   * move about 2 px a frame at 1080p (under one pixel of the prior's 384 px network over the
   * frames it is reused for); faster motion, a pan or a cut runs it on the next frame. */
  readonly priorMotion: number;
  readonly plate: PlateSettings;
  readonly fusion: FusionSettings;
  /** In a clip or live session, the plate branch's alpha is steadied against the previous frame's
   * (./temporal.ts; `rest` 1 = off). Stills and first frames are never touched. */
  readonly temporal: TemporalSettings;
}

export const defaultFusedSettings: FusedSettings = {
  priorLongSide: 384,
  priorFrameSide: 768,
  priorEvery: 3,
  priorMotion: 0.003,
  plate: defaultPlateSettings,
  fusion: defaultFusionSettings,
  temporal: defaultTemporalSettings,
};

export function fusedSettings(entry: ManifestEntry): FusedSettings {
  const s = entry.settings as {
    priorLongSide?: unknown;
    priorFrameSide?: unknown;
    priorEvery?: unknown;
    priorMotion?: unknown;
    plate?: Partial<PlateSettings>;
    fusion?: Partial<FusionSettings>;
    temporal?: Partial<TemporalSettings>;
  };
  const longSide = s.priorLongSide ?? defaultFusedSettings.priorLongSide;
  if (typeof longSide !== 'number' || longSide < 64) throw new Error(`models/manifest.json: ${entry.id}.settings.priorLongSide must be a number >= 64`);
  const frameSide = s.priorFrameSide ?? defaultFusedSettings.priorFrameSide;
  if (typeof frameSide !== 'number' || (frameSide !== 0 && frameSide < longSide)) {
    throw new Error(`models/manifest.json: ${entry.id}.settings.priorFrameSide must be 0 or a number >= priorLongSide`);
  }
  const every = s.priorEvery ?? defaultFusedSettings.priorEvery;
  if (typeof every !== 'number' || !Number.isInteger(every) || every < 1) throw new Error(`models/manifest.json: ${entry.id}.settings.priorEvery must be a whole number >= 1`);
  const motion = s.priorMotion ?? defaultFusedSettings.priorMotion;
  if (typeof motion !== 'number' || !(motion >= 0 && motion <= 1)) throw new Error(`models/manifest.json: ${entry.id}.settings.priorMotion must be a number in [0, 1]`);
  const temporal = { ...defaultTemporalSettings, ...s.temporal };
  const problem = temporalSettingsProblem(temporal);
  if (problem) throw new Error(`models/manifest.json: ${entry.id}.settings.temporal.${problem}`);
  return {
    priorLongSide: longSide,
    priorFrameSide: frameSide,
    priorEvery: every,
    priorMotion: motion,
    plate: { ...defaultPlateSettings, ...s.plate },
    fusion: { ...defaultFusionSettings, ...s.fusion },
    temporal,
  };
}

function checkPlate(src: Frame, bgr: Frame): void {
  checkFrame(bgr, 'plate');
  if (bgr.width !== src.width || bgr.height !== src.height) {
    throw new MattingInputError('plate_size_mismatch', `plate is ${bgr.width}x${bgr.height} but the frame is ${src.width}x${src.height}; capture the plate at the frame's size`);
  }
  if (bgr.channels !== src.channels) throw new MattingInputError('bad_frame', `plate has ${bgr.channels} channels but the frame has ${src.channels}`);
}

/** What the fused model keeps in a caller's FrameSequence: the learned prior's own sequence and
 * its last result, and the plate branch's steadied alpha. */
interface FusedState {
  readonly prior: FrameSequence;
  last?: LastPrior;
  steady?: SteadyAlpha;
}

/** The temporal stabiliser's memory: the last steady plate alpha and that frame's block means. */
interface SteadyAlpha {
  /** Frame size and channels it was made for (another size starts afresh). */
  readonly key: string;
  readonly alpha: Uint8Array;
  readonly blocks: Float32Array;
}

interface LastPrior {
  /** Frame size, channels and ratio it was made for. */
  readonly key: string;
  readonly alpha: Uint8Array;
  /** The frame's pixels on a sparse grid (motion check). */
  readonly samples: Uint8Array;
  /** Frames matted since with this alpha reused. */
  reused: number;
}

/** A pixel counts as changed above this max channel difference (levels; sensor noise stays below). */
const PRIOR_MOTION_LEVELS = 24;
/** Grid step (pixels) of the motion check: about 8000 samples at 1080p, well under a millisecond. */
const SAMPLE_STEP = 16;

function sampleFrame(src: Frame): Uint8Array {
  const { width: W, height: H, channels: C, data } = src;
  const out = new Uint8Array(Math.ceil(W / SAMPLE_STEP) * Math.ceil(H / SAMPLE_STEP) * 3);
  let k = 0;
  for (let y = SAMPLE_STEP >> 1; y < H + (SAMPLE_STEP >> 1); y += SAMPLE_STEP) {
    const row = Math.min(y, H - 1) * W;
    for (let x = SAMPLE_STEP >> 1; x < W + (SAMPLE_STEP >> 1); x += SAMPLE_STEP) {
      const i = (row + Math.min(x, W - 1)) * C;
      out[k++] = data[i]!;
      out[k++] = data[i + 1]!;
      out[k++] = data[i + 2]!;
    }
  }
  return out;
}

/** Share of samples whose max channel difference exceeds PRIOR_MOTION_LEVELS. */
function changedShare(a: Uint8Array, b: Uint8Array): number {
  let changed = 0;
  for (let i = 0; i < a.length; i += 3) {
    const d = Math.max(Math.abs(a[i]! - b[i]!), Math.abs(a[i + 1]! - b[i + 1]!), Math.abs(a[i + 2]! - b[i + 2]!));
    if (d > PRIOR_MOTION_LEVELS) changed++;
  }
  return changed / (a.length / 3);
}

/** Small graphs kept compiled (a fusion graph, a prior-input graph and a temporal stabiliser per frame size). */
const CACHE_LIMIT = 9;

export class FusedSession implements MattingSession {
  readonly kind = 'fused' as const;
  readonly needsPlate = kindNeedsPlate('fused');
  private readonly fusion = new Map<string, Promise<OrtSession>>();
  private disposed = false;

  constructor(
    readonly modelId: string,
    readonly settings: FusedSettings,
    private readonly plate: PlateSession,
    private readonly prior: MattingSession,
    private readonly providers?: ProviderName[],
  ) {}

  get provider(): string {
    return this.prior.provider;
  }

  get fallbacks(): readonly ProviderFallback[] {
    return this.prior.fallbacks;
  }

  async prepare(width: number, height: number): Promise<void> {
    await Promise.all([this.plate.prepare(width, height, 3, true), this.fusionGraph(width, height, 3, true), this.priorInputGraph(width, height, 3)]);
  }

  /** The size the learned prior runs at for a frame size. */
  priorSize(width: number, height: number): { width: number; height: number } {
    const side = this.settings.priorFrameSide;
    if (side === 0 || Math.max(width, height) <= side) return { width, height };
    const scale = side / Math.max(width, height);
    return { width: Math.max(16, Math.round(width * scale)), height: Math.max(16, Math.round(height * scale)) };
  }

  private fusionGraph(width: number, height: number, channels: 3 | 4, foreground: boolean): Promise<OrtSession> {
    const prior = this.priorSize(width, height);
    return this.cached(`${width}x${height}x${channels}:${foreground ? 'fgr' : 'alpha'}`, width * height, () =>
      buildFusionGraph({ width, height, channels, foreground, plateSettings: this.settings.plate, settings: this.settings.fusion, priorWidth: prior.width, priorHeight: prior.height }),
    );
  }

  private priorInputGraph(width: number, height: number, channels: 3 | 4): Promise<OrtSession> {
    const prior = this.priorSize(width, height);
    return this.cached(`prior:${width}x${height}x${channels}`, width * height, () => buildPriorInputGraph(width, height, channels, prior.width, prior.height), 1);
  }

  private temporalGraph(width: number, height: number, channels: 3 | 4): Promise<OrtSession> {
    return this.cached(`temporal:${width}x${height}x${channels}`, width * height, () => buildTemporalGraph({ width, height, channels, settings: this.settings.temporal }));
  }

  /**
   * The plate alpha steadied against the sequence's previous one (see ./temporal.ts). A first
   * frame, or the first after a change of size, passes unchanged and only seeds the state.
   */
  private async steadied(state: FusedState, src: Frame, alpha: Uint8Array): Promise<Uint8Array> {
    const { width: W, height: H, channels: C } = src;
    const key = `${W}x${H}x${C}`;
    const prev = state.steady?.key === key ? state.steady : undefined;
    const grid = blockGrid(W, H, this.settings.temporal.block);
    const graph = await this.temporalGraph(W, H, C);
    const out = await graph.run({
      src: new ort.Tensor('uint8', src.data, [H, W, C]),
      alpha: new ort.Tensor('uint8', alpha, [H, W]),
      prev_alpha: new ort.Tensor('uint8', prev?.alpha ?? alpha, [H, W]),
      prev_blocks: new ort.Tensor('float32', prev?.blocks ?? new Float32Array(grid.width * grid.height * 3), [grid.height, grid.width, 3]),
    });
    const steady = out.steady?.data as Uint8Array | undefined;
    const blocks = out.blocks?.data as Float32Array | undefined;
    if (!steady || !blocks) throw new Error('temporal stabiliser graph produced no output');
    // A first frame is its own plate alpha, bit for bit (the graph is exact there too).
    state.steady = { key, alpha: prev ? steady : alpha, blocks };
    return state.steady.alpha;
  }

  /**
   * Least-recently-used cache of the session's own small graphs. As for the plate model, frames over
   * ARENA_MAX_PIXELS run without onnxruntime's memory arena, which never gives memory back (an
   * 8192x8192 still left the engine at 2.4 GiB).
   */
  private cached(key: string, pixels: number, build: () => Uint8Array, lane: InferenceLane = 0): Promise<OrtSession> {
    let entry = this.fusion.get(key);
    if (entry) {
      this.fusion.delete(key);
      this.fusion.set(key, entry);
      return entry;
    }
    entry = withInferenceLane(lane, () => openOrtSession(build(), this.providers, { memoryArena: pixels <= ARENA_MAX_PIXELS })).then((o) => o.session);
    entry.catch(() => this.fusion.delete(key));
    this.fusion.set(key, entry);
    while (this.fusion.size > CACHE_LIMIT) {
      const [oldKey, old] = this.fusion.entries().next().value as [string, Promise<OrtSession>];
      this.fusion.delete(oldKey);
      void old.then((s) => s.release()).catch(() => undefined);
    }
    return entry;
  }

  async run(src: Frame, bgr?: Frame, options: RunOptions = {}): Promise<MatteResult> {
    if (this.disposed) throw new Error(`${this.modelId} session used after dispose()`);
    checkFrame(src, 'frame');
    if (!bgr) throw new MattingInputError('plate_required', `the ${this.modelId} model needs a background plate (clean plate) for every frame`);
    const { width: W, height: H, channels: C } = src;
    const prior = this.priorSize(W, H);
    const ratio = options.downsampleRatio ?? autoDownsampleRatio(prior.width, prior.height, this.settings.priorLongSide);
    let state: FusedState | undefined;
    if (options.sequence) {
      state = (options.sequence.state as FusedState | undefined) ?? { prior: new FrameSequence() };
      options.sequence.state = state;
    }
    // In a clip, the prior's last alpha stands for up to priorEvery - 1 frames while the frame has
    // barely changed since the one it saw (the plate model still runs every frame and supplies
    // the edges; the prior only fills where the plate cannot tell).
    const key = `${W}x${H}x${C}@${ratio}`;
    const samples = state ? sampleFrame(src) : undefined;
    const last = state?.last;
    const reuse = last !== undefined && samples !== undefined && last.key === key && last.reused + 1 < this.settings.priorEvery && changedShare(samples, last.samples) <= this.settings.priorMotion;
    // The plate is checked (size, channels) before anything runs; then the plate model and the
    // learned prior run at the same time (RVM's many small ops leave cores idle that the plate
    // graph's large ones fill).
    checkPlate(src, bgr);
    // In a sequence the plate alpha is steadied as soon as it is there, while the prior may still run.
    const stabilised = state && this.settings.temporal.rest < 1 ? state : undefined;
    const [plateResult, priorAlpha, fusion] = await Promise.all([
      this.plate.run(src, bgr, { foreground: false }).then(async (r) => (stabilised ? { ...r, alpha: { ...r.alpha, data: await this.steadied(stabilised, src, r.alpha.data) } } : r)),
      reuse
        ? last.alpha
        : this.priorFrame(src, prior)
            .then((small) => this.prior.run(small, undefined, { foreground: false, downsampleRatio: ratio, ...(state ? { sequence: state.prior } : {}) }))
            .then((r) => r.alpha.data),
      this.fusionGraph(W, H, C, options.foreground ?? true),
    ]);
    if (state && samples) {
      if (reuse) last.reused++;
      else state.last = { key, alpha: priorAlpha, samples, reused: 0 };
    }
    const out = await fusion.run({
      src: new ort.Tensor('uint8', src.data, [H, W, C]),
      bgr: new ort.Tensor('uint8', bgr.data, [H, W, C]),
      alpha_plate: new ort.Tensor('uint8', plateResult.alpha.data, [H, W]),
      alpha_rvm: new ort.Tensor('uint8', priorAlpha, [1, prior.height, prior.width, 1]),
    });
    const tensor = (name: string): Uint8Array => {
      const t = out[name];
      if (!t) throw new Error(`fusion graph produced no "${name}" output`);
      return t.data as Uint8Array;
    };
    return {
      alpha: { data: tensor('alpha'), width: W, height: H },
      ...(plateResult.error ? { error: plateResult.error } : {}),
      ...((options.foreground ?? true) ? { foreground: { data: tensor('fgr'), width: W, height: H, channels: 4 as const } } : {}),
    };
  }

  /** The frame as the learned prior sees it (downscaled when the frame is larger than priorFrameSide). */
  private async priorFrame(src: Frame, size: { width: number; height: number }): Promise<Frame> {
    if (size.width === src.width && size.height === src.height) return src;
    const graph = await this.priorInputGraph(src.width, src.height, src.channels);
    const out = await graph.run({ src: new ort.Tensor('uint8', src.data, [src.height, src.width, src.channels]) });
    const small = out.small;
    if (!small) throw new Error('prior input graph produced no output');
    return { data: small.data as Uint8Array, width: size.width, height: size.height, channels: src.channels };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    const graphs = [...this.fusion.values()];
    this.fusion.clear();
    await Promise.all([this.plate.dispose(), this.prior.dispose(), ...graphs.map((e) => e.then((s) => s.release()).catch(() => undefined))]);
  }
}

/** Registry opener for kind "fused": the entry's file is the learned prior (models/rvm.onnx). */
export async function openFusedSession(entry: ManifestEntry, ctx: { readonly modelsDir: string }, providers?: ProviderName[]): Promise<MattingSession> {
  const settings = fusedSettings(entry);
  // The prior (and its downscale graph) lives in the second inference worker, so it runs while
  // the plate graph runs in the first (ort-transport.ts; one worker when the policy allows one run).
  const prior = await withInferenceLane(1, () => openRvmSession({ ...entry, kind: 'rvm', settings: {} }, ctx, providers));
  return new FusedSession(entry.id, settings, new PlateSession(`${entry.id}/plate`, settings.plate, providers), prior, providers);
}
