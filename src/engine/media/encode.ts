// Frames -> one ffmpeg process writing every requested output of a job at once (one pipe
// write per frame, whatever the number of outputs). Outputs are written under temp names and
// moved to fresh final names only when ffmpeg finished cleanly; abort kills ffmpeg and
// removes the temp files.
import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_COMPOSITE_COLOR, type ClipOutputKind, type CompositeOver } from '../../shared/api.js';
import type { MediaTools } from './ffmpeg-locate.js';
import { formatRational, type Rational } from './frame-range.js';
import { removeEngineTemps, type EncoderRecord } from './leftovers.js';
import { publishAllNoClobber, tempNameFor } from './output-files.js';
import { DEFAULT_STALL_MS, spawnTool, type ToolProcess } from './process.js';

export interface OutputTarget {
  readonly kind: ClipOutputKind;
  /** The wanted final path; a fresh name ("x (2).mov") is picked if it exists when done. */
  readonly path: string;
}

export interface EncoderOptions {
  readonly width: number;
  readonly height: number;
  readonly frameRate: Rational;
  /** rgba: straight-alpha foreground frames; gray: alpha planes only (matte-only jobs). */
  readonly input: 'rgba' | 'gray';
  readonly outputs: readonly OutputTarget[];
  /** Number of the first png file (the source frame index, so files map to source frames). */
  readonly firstFrameNumber: number;
  readonly compositeBackground?: CompositeOver;
  /** The source's audio for the composite output: the file and the span's time in it (seconds from the file's start). */
  readonly compositeAudio?: { readonly path: string; readonly startSeconds: number; readonly durationSeconds: number };
  readonly signal?: AbortSignal;
  /** Stall deadline (default DEFAULT_STALL_MS): ffmpeg not taking a frame, or not finishing, this long is killed. */
  readonly stallMs?: number;
}

export interface PublishedOutput {
  readonly kind: ClipOutputKind;
  readonly path: string;
}

/** File extension per kind ("" = a folder of numbered PNGs). */
export function outputExtension(kind: ClipOutputKind): string {
  return { prores4444: '.mov', matte: '.mov', png: '', composite: '.mp4' }[kind];
}

/** Kinds that need the model's foreground colours, not only its alpha. */
export function needsForeground(kinds: readonly ClipOutputKind[]): boolean {
  return kinds.some((k) => k !== 'matte');
}

// Premiere reads HD ProRes/H.264 as Rec.709: convert and tag accordingly.
const TO_709 = 'scale=out_color_matrix=bt709:out_range=tv';
const TAG_709 = ['-color_primaries', 'bt709', '-color_trc', 'bt709', '-colorspace', 'bt709'];

function backgroundInputArgs(bg: CompositeOver, o: EncoderOptions): string[] {
  const rate = formatRational(o.frameRate);
  if ('color' in bg) return ['-f', 'lavfi', '-i', `color=c=0x${bg.color.replace('#', '')}:s=${o.width}x${o.height}:r=${rate}`];
  if ('imagePath' in bg) return ['-loop', '1', '-framerate', rate, '-i', bg.imagePath];
  return ['-stream_loop', '-1', '-i', bg.videoPath];
}

/** The full ffmpeg argument list; temp paths are per target, same order as `o.outputs`. */
export function encodeArgs(o: EncoderOptions, temps: readonly string[]): string[] {
  const rate = formatRational(o.frameRate);
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-n'];
  args.push('-f', 'rawvideo', '-pix_fmt', o.input, '-s', `${o.width}x${o.height}`, '-framerate', rate, '-i', 'pipe:0');
  const composite = o.outputs.some((t) => t.kind === 'composite');
  if (composite) args.push(...backgroundInputArgs(o.compositeBackground ?? { color: DEFAULT_COMPOSITE_COLOR }, o));
  // Input 2: the clip's own audio over the span (the composite is a watchable result; the other
  // outputs are layers for an editor, who has the audio on the source clip).
  const audio = composite && o.compositeAudio;
  if (audio) args.push('-ss', audio.startSeconds.toFixed(6), '-t', audio.durationSeconds.toFixed(6), '-i', audio.path);
  const n = o.outputs.length;
  const chains: string[] = [n > 1 ? `[0:v]split=${n}${o.outputs.map((_, i) => `[s${i}]`).join('')}` : '[0:v]null[s0]'];
  const outArgs: string[] = [];
  const even = o.width % 2 === 0 && o.height % 2 === 0;
  o.outputs.forEach((t, i) => {
    const temp = temps[i]!;
    switch (t.kind) {
      case 'prores4444':
        chains.push(`[s${i}]${TO_709},format=yuva444p10le[o${i}]`);
        outArgs.push('-map', `[o${i}]`, '-c:v', 'prores_aw', '-profile:v', '4', '-pix_fmt', 'yuva444p10le', '-vendor', 'apl0', ...TAG_709, '-f', 'mov', temp);
        break;
      case 'matte':
        chains.push(`[s${i}]${o.input === 'rgba' ? 'alphaextract,' : ''}${TO_709},format=yuv444p10le[o${i}]`);
        outArgs.push('-map', `[o${i}]`, '-c:v', 'prores_aw', '-profile:v', '4', '-pix_fmt', 'yuv444p10le', '-vendor', 'apl0', ...TAG_709, '-f', 'mov', temp);
        break;
      case 'png':
        chains.push(`[s${i}]format=rgba[o${i}]`);
        outArgs.push('-map', `[o${i}]`, '-c:v', 'png', '-compression_level', '1', '-pix_fmt', 'rgba', '-start_number', String(o.firstFrameNumber), '-f', 'image2', path.join(temp, 'frame_%06d.png'));
        break;
      case 'composite': {
        // H.264 4:2:0 needs even sizes; odd-sized clips get 4:4:4 rather than a changed size.
        const pix = even ? 'yuv420p' : 'yuv444p';
        chains.push(`[1:v]scale=${o.width}:${o.height},setsar=1,fps=${rate},format=rgba[bg${i}]`);
        chains.push(`[bg${i}][s${i}]overlay=shortest=1:format=auto,${TO_709},format=${pix}[o${i}]`);
        // `?`: a clip without audio gives a silent composite rather than an error.
        const audioArgs = audio ? ['-map', '2:a:0?', '-c:a', 'aac', '-b:a', '192k'] : [];
        outArgs.push('-map', `[o${i}]`, ...audioArgs, '-c:v', 'libx264', '-preset', 'veryfast', '-crf', '16', '-pix_fmt', pix, ...TAG_709, '-movflags', '+faststart', '-f', 'mp4', temp);
        break;
      }
    }
  });
  args.push('-filter_complex', chains.join(';'), ...outArgs);
  return args;
}

export class ClipEncoder {
  private stdinError: Error | undefined;
  private written = 0;

  private constructor(
    private readonly options: EncoderOptions,
    private readonly proc: ToolProcess,
    /** Temp paths in `options.outputs` order; removed on abort. */
    readonly tempPaths: readonly string[],
    private readonly executable: string,
  ) {
    proc.child.stdin!.on('error', (err) => {
      this.stdinError = err;
    });
  }

  /** Starts ffmpeg. PNG temp folders are created here (image2 does not create folders). */
  static async start(tools: MediaTools, options: EncoderOptions): Promise<ClipEncoder> {
    const temps = options.outputs.map((t) => tempNameFor(t.path + outputExtension(t.kind)));
    for (const [i, t] of options.outputs.entries()) if (t.kind === 'png') await mkdir(temps[i]!);
    const proc = spawnTool(tools.ffmpeg.path, encodeArgs(options, temps), { signal: options.signal, stdin: 'pipe', stdout: 'ignore', stallMs: options.stallMs ?? DEFAULT_STALL_MS });
    // The deadline counts only while the engine waits on ffmpeg (a full pipe, the final flush).
    proc.pause();
    return new ClipEncoder(options, proc, temps, tools.ffmpeg.path);
  }

  private failure(): Error {
    if (this.proc.timedOut) return this.proc.timedOut;
    const tail = this.proc.stderrTail().trim().split('\n').slice(-3).join(' | ');
    return new Error(`encoding failed after ${this.written} frames: ${tail || this.stdinError?.message || 'ffmpeg stopped'}`);
  }

  /** Writes one frame (rgba or gray bytes); resolves when the pipe accepted it (backpressure). */
  async write(data: Uint8Array): Promise<void> {
    const stdin = this.proc.child.stdin!;
    if (this.stdinError || stdin.destroyed) throw this.failure();
    const expected = this.options.width * this.options.height * (this.options.input === 'rgba' ? 4 : 1);
    if (data.byteLength !== expected) throw new Error(`encoder got ${data.byteLength} bytes, expected ${expected}`);
    const ok = stdin.write(data);
    this.written++;
    if (!ok) {
      this.proc.resume();
      await new Promise<void>((resolve, reject) => {
        const onDrain = (): void => {
          cleanup();
          resolve();
        };
        const onFail = (): void => {
          cleanup();
          reject(this.failure());
        };
        const cleanup = (): void => {
          this.proc.pause();
          stdin.off('drain', onDrain);
          stdin.off('error', onFail);
          stdin.off('close', onFail);
        };
        stdin.on('drain', onDrain);
        stdin.on('error', onFail);
        stdin.on('close', onFail);
      });
    }
  }

  /** Closes the input, waits for ffmpeg, checks the PNG count, and publishes under fresh names. */
  async finish(): Promise<PublishedOutput[]> {
    this.proc.child.stdin!.end();
    this.proc.resume();
    try {
      await this.proc.done;
    } catch (err) {
      if (this.options.signal?.aborted) throw err;
      throw this.failure();
    }
    // Every check before the first publish; then all outputs appear, or none (publishAllNoClobber).
    for (const [i, t] of this.options.outputs.entries()) {
      if (t.kind !== 'png') continue;
      const files = (await readdir(this.tempPaths[i]!)).filter((f) => f.endsWith('.png'));
      if (files.length !== this.written) throw new Error(`png sequence has ${files.length} files for ${this.written} frames`);
    }
    const outputs = this.options.outputs;
    const paths = await publishAllNoClobber(outputs.map((t, i) => ({ temp: this.tempPaths[i]!, final: t.path + outputExtension(t.kind) })));
    return outputs.map((t, i) => ({ kind: t.kind, path: paths[i]! }));
  }

  /** The running ffmpeg, for the job record (a restarted engine stops it only if it proves it). */
  get process(): EncoderRecord | undefined {
    const pid = this.proc.child.pid;
    return pid === undefined ? undefined : { pid, executable: this.executable };
  }

  /** Stops ffmpeg and removes every temp output. Safe to call more than once, or after finish. */
  async abort(): Promise<void> {
    this.proc.kill();
    await this.proc.done.catch(() => undefined);
    await removeEngineTemps(this.tempPaths);
  }
}
