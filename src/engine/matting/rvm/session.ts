// MattingSession for Robust Video Matting (kind "rvm"): no plate needed, recurrent. The network
// keeps four hidden states (r1..r4) that carry what it learnt from earlier frames; they live in
// the caller's FrameSequence (one per clip job or live session), so several callers can share
// the one session the matting service keeps per model. A frame without a sequence is matted on
// its own (zero state), as a still should be.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import onnxProto from 'onnx-proto';
import * as ort from 'onnxruntime-node';
import { MattingInputError } from '../errors.js';
import { checkFrame } from '../check-frame.js';
import type { ManifestEntry } from '../manifest.js';
import { openOrtSession, type OpenedSession, type ProviderName } from '../providers.js';
import type { OrtSession } from '../ort-transport.js';
import type { ProviderFallback } from '../../../shared/api.js';
import { FrameSequence, type MatteResult, type MattingSession, type RunOptions } from '../types.js';
import type { Frame } from '../../frame.js';
import { IO, RVM_STATE_IN, RVM_STATE_OUT, RvmContractError, wrapRvm, type WrapOptions } from './wrap.js';
import { FAST_TAIL } from './fast-tail.js';
import { kindNeedsPlate } from '../kinds.js';
import { messageOf } from '../../../shared/error-message.js';

export interface RvmSettings {
  /** Fixed downsample ratio (0 < r <= 1), or "auto": the network sees about `autoLongSide` pixels on the long side. */
  readonly downsampleRatio: number | 'auto';
  readonly autoLongSide: number;
  /** Use a plate, when the caller has one, to clear alpha where frame and plate agree. */
  readonly plateAssist: boolean;
}

export const defaultRvmSettings: RvmSettings = { downsampleRatio: 'auto', autoLongSide: 512, plateAssist: false };

export function rvmSettings(entry: ManifestEntry): RvmSettings {
  const s = entry.settings;
  const ratio = s.downsampleRatio ?? defaultRvmSettings.downsampleRatio;
  if (ratio !== 'auto' && !(typeof ratio === 'number' && ratio > 0 && ratio <= 1)) {
    throw new Error(`models/manifest.json: ${entry.id}.settings.downsampleRatio must be "auto" or a number in (0, 1], got ${JSON.stringify(ratio)}`);
  }
  const longSide = s.autoLongSide ?? defaultRvmSettings.autoLongSide;
  if (typeof longSide !== 'number' || longSide < 64) throw new Error(`models/manifest.json: ${entry.id}.settings.autoLongSide must be a number >= 64`);
  return { downsampleRatio: ratio, autoLongSide: longSide, plateAssist: s.plateAssist === true };
}

/**
 * The ratio for a frame: the network's cost grows with the downsampled size, and RVM was trained
 * to see people at roughly 512 px, so about 0.27 for 1080p and 0.13 for 4K; frames already that
 * small are not downsampled.
 */
export function autoDownsampleRatio(width: number, height: number, longSide = defaultRvmSettings.autoLongSide): number {
  return Math.min(1, longSide / Math.max(width, height));
}

/** What a FrameSequence holds for rvm: the states of the last frame and what they were made for. */
interface RvmState {
  readonly key: string;
  readonly tensors: readonly ort.Tensor[];
}

const ZERO_STATE = new ort.Tensor('float32', new Float32Array(1), [1, 1, 1, 1]);
const NO_PLATE = new ort.Tensor('uint8', new Uint8Array(3), [1, 1, 1, 3]);

export class RvmSession implements MattingSession {
  readonly kind = 'rvm' as const;
  readonly needsPlate = kindNeedsPlate('rvm');
  private disposed = false;

  constructor(
    readonly modelId: string,
    readonly settings: RvmSettings,
    private readonly session: OrtSession,
    readonly provider: string,
    readonly fallbacks: readonly ProviderFallback[] = [],
  ) {}

  ratioFor(width: number, height: number, override?: number): number {
    const ratio = override ?? (this.settings.downsampleRatio === 'auto' ? autoDownsampleRatio(width, height, this.settings.autoLongSide) : this.settings.downsampleRatio);
    if (!(ratio > 0 && ratio <= 1)) throw new MattingInputError('bad_frame', `downsample ratio must be in (0, 1], got ${ratio}`);
    // The network needs a few pixels at its lowest resolution (1/16 of the downsampled frame).
    return Math.max(ratio, Math.min(1, 32 / Math.min(width, height)));
  }

  async run(src: Frame, bgr?: Frame, options: RunOptions = {}): Promise<MatteResult> {
    if (this.disposed) throw new Error(`${this.modelId} session used after dispose()`);
    checkFrame(src, 'frame');
    const usePlate = this.settings.plateAssist && bgr !== undefined;
    if (usePlate) {
      checkFrame(bgr, 'plate');
      if (bgr.width !== src.width || bgr.height !== src.height) {
        throw new MattingInputError('plate_size_mismatch', `plate is ${bgr.width}x${bgr.height} but the frame is ${src.width}x${src.height}; capture the plate at the frame's size`);
      }
    }
    const { width: W, height: H } = src;
    const ratio = this.ratioFor(W, H, options.downsampleRatio);
    // States only carry over between frames of the same size and ratio.
    const key = `${W}x${H}@${ratio}`;
    const previous = options.sequence?.state as RvmState | undefined;
    const state = previous?.key === key ? previous.tensors : RVM_STATE_IN.map(() => ZERO_STATE);
    const foreground = options.foreground ?? true;
    const feeds: Record<string, ort.Tensor> = {
      [IO.frame]: new ort.Tensor('uint8', src.data, [1, H, W, src.channels]),
      [IO.plate]: usePlate ? new ort.Tensor('uint8', bgr.data, [1, H, W, bgr.channels]) : NO_PLATE,
      [IO.usePlate]: new ort.Tensor('bool', Uint8Array.of(usePlate ? 1 : 0), []),
      [IO.ratio]: new ort.Tensor('float32', Float32Array.of(ratio), []),
    };
    // The fast wrapper (fast-tail.ts) computes alpha alone when no foreground is wanted, and
    // with one leaves alpha in the foreground's fourth channel.
    const fast = this.session.inputNames.includes(FAST_TAIL.wantForeground);
    if (fast) feeds[FAST_TAIL.wantForeground] = new ort.Tensor('bool', Uint8Array.of(foreground ? 1 : 0), []);
    RVM_STATE_IN.forEach((name, i) => (feeds[name] = state[i]!));
    const fetches = [...(fast && foreground ? [] : [IO.alpha]), ...(foreground ? [IO.foreground] : []), ...(options.sequence ? RVM_STATE_OUT : [])];
    const out = await this.session.run(feeds, fetches);
    const tensor = (name: string): ort.Tensor => {
      const t = out[name];
      if (!t) throw new Error(`${this.modelId}: the wrapped graph produced no "${name}" output`);
      return t;
    };
    if (options.sequence) options.sequence.state = { key, tensors: RVM_STATE_OUT.map(tensor) } satisfies RvmState;
    const rgba = foreground ? (tensor(IO.foreground).data as Uint8Array) : undefined;
    const alpha = fast && rgba ? alphaOf(rgba) : (tensor(IO.alpha).data as Uint8Array);
    return {
      alpha: { data: alpha, width: W, height: H },
      ...(rgba ? { foreground: { data: rgba, width: W, height: H, channels: 4 as const } } : {}),
    };
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await this.session.release();
  }
}

function alphaOf(rgba: Uint8Array): Uint8Array {
  const alpha = new Uint8Array(rgba.length / 4);
  for (let i = 0; i < alpha.length; i++) alpha[i] = rgba[4 * i + 3]!;
  return alpha;
}

/** Reads models/rvm.onnx, splices the 8-bit wrapper in and opens it on the best provider. */
export async function loadRvmModel(file: string, label: string, providers?: ProviderName[], wrap?: WrapOptions): Promise<OpenedSession> {
  return openRvmBytes(await readFile(file), label, providers, wrap);
}

/** The same for a converted model in memory (models:rvm checks its conversion before writing it). */
export async function openRvmBytes(bytes: Uint8Array, label: string, providers?: ProviderName[], wrap?: WrapOptions): Promise<OpenedSession> {
  let model;
  try {
    model = onnxProto.onnx.ModelProto.decode(bytes);
  } catch (err) {
    throw new RvmContractError(`${label} is not an ONNX model (${messageOf(err)})`);
  }
  const wrapped = wrapRvm(model, label, wrap);
  try {
    return await openOrtSession(wrapped, providers);
  } catch (err) {
    throw new RvmContractError(`${label}: onnxruntime cannot load it (${messageOf(err)})`);
  }
}

/**
 * Proves a model file is an RVM this engine can run: opens it as the engine would (contract
 * check, wrapper, onnxruntime on CPU) and mattes one small frame with a fresh state and then
 * with the state it returned. Throws RvmContractError naming what is wrong.
 */
export async function checkRvmBytes(bytes: Uint8Array, label: string): Promise<void> {
  const opened = await openRvmBytes(bytes, label, ['cpu']);
  const session = new RvmSession('rvm', defaultRvmSettings, opened.session, opened.provider);
  try {
    const W = 96;
    const H = 64;
    const data = new Uint8Array(W * H * 3).map((_, i) => (i * 37) % 256);
    const sequence = new FrameSequence();
    for (let i = 0; i < 2; i++) {
      let out;
      try {
        out = await session.run({ data, width: W, height: H, channels: 3 }, undefined, { sequence });
      } catch (err) {
        throw new RvmContractError(`${label}: onnxruntime cannot run it on a ${W}x${H} probe frame (${messageOf(err)})`);
      }
      if (out.alpha.data.length !== W * H || out.foreground?.data.length !== W * H * 4) {
        throw new RvmContractError(`${label}: on a ${W}x${H} probe frame it returned alpha/foreground of the wrong size (pha must be one channel, fgr three)`);
      }
    }
  } finally {
    await session.dispose();
  }
}

/** Registry opener for kind "rvm". */
export async function openRvmSession(entry: ManifestEntry, ctx: { readonly modelsDir: string }, providers?: ProviderName[], wrap?: WrapOptions): Promise<MattingSession> {
  if (entry.file === null) throw new Error(`model ${entry.id} has no file`);
  const settings = rvmSettings(entry);
  try {
    const opened = await loadRvmModel(path.join(ctx.modelsDir, entry.file), `models/${entry.file}`, providers, wrap);
    return new RvmSession(entry.id, settings, opened.session, opened.provider, opened.fallbacks);
  } catch (err) {
    if (err instanceof RvmContractError) {
      const fix = entry.url ? `move it away and fetch it again with "npm run models:fetch ${entry.id}"` : 'build it again with "npm run models:rvm"';
      throw new MattingInputError('model_unavailable', `model "${entry.id}" cannot run: ${err.message}; ${fix}`);
    }
    throw err;
  }
}
