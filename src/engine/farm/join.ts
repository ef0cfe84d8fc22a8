// Segments -> the job's outputs, frame-exactly and without re-encoding intra-only streams:
// ProRes segments are concatenated stream-copied (ffmpeg's concat demuxer), PNG segments are
// moved into one folder (their files already carry the source frame numbers). An output that
// is not intra-only (composite H.264) is encoded once from the joined PNG frames.
import { mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import type { ClipOutputKind, CompositeOver } from '../../shared/api.js';
import { ClipEncoder, outputExtension, type PublishedOutput } from '../media/encode.js';
import type { MediaTools } from '../media/ffmpeg-locate.js';
import type { Rational } from '../media/frame-range.js';
import { publishNoClobber, tempNameFor } from '../media/output-files.js';
import { DEFAULT_STALL_MS, spawnTool } from '../media/process.js';
import { probeMedia } from '../media/probe.js';
import type { SegmentKind } from './task.js';
import { FarmError } from './task.js';

export interface JoinInput {
  /** Per segment in frame order: its published file or folder per kind. */
  readonly segments: readonly Readonly<Partial<Record<SegmentKind, string>>>[];
  readonly frameCount: number;
  readonly width: number;
  readonly height: number;
  readonly frameRate: Rational;
  readonly firstFrame: number;
  readonly dir: string;
  readonly signal?: AbortSignal;
}

function concatList(files: readonly string[]): string {
  return files.map((f) => `file '${f.replace(/'/g, "'\\''")}'\n`).join('');
}

/** Stream-copies ProRes segments into `<stem>.mov`; checks the joined file holds every frame. */
async function joinMov(tools: MediaTools, input: JoinInput, kind: 'prores4444' | 'matte', finalPath: string): Promise<string> {
  const files = input.segments.map((s) => s[kind]!);
  const list = path.join(input.dir, `concat-${kind}.txt`);
  await writeFile(list, concatList(files));
  const temp = tempNameFor(finalPath);
  // Progress on stderr every second keeps the stall deadline from firing while the copy moves.
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-n', '-stats_period', '1', '-progress', 'pipe:2', '-f', 'concat', '-safe', '0', '-i', list, '-map', '0:v', '-c', 'copy', '-f', 'mov', temp];
  try {
    await spawnTool(tools.ffmpeg.path, args, { stdout: 'ignore', stallMs: DEFAULT_STALL_MS, ...(input.signal ? { signal: input.signal } : {}) }).done;
    const joined = await probeMedia(tools, temp);
    if (joined.frameCount !== input.frameCount) throw new FarmError('join_failed', `joined ${kind} has ${joined.frameCount} frames, expected ${input.frameCount}`);
    return await publishNoClobber(temp, finalPath);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

/** Moves every segment's PNGs into one folder (inside the farm folder until published). */
async function joinPngFolder(input: JoinInput): Promise<string> {
  const joined = path.join(input.dir, 'joined-png');
  await mkdir(joined);
  let count = 0;
  for (const s of input.segments) {
    const folder = s.png!;
    for (const name of (await readdir(folder)).filter((n) => n.endsWith('.png'))) {
      await rename(path.join(folder, name), path.join(joined, name));
      count++;
    }
  }
  if (count !== input.frameCount) throw new FarmError('join_failed', `joined png sequence has ${count} files, expected ${input.frameCount}`);
  return joined;
}

/** Encodes the composite once from the joined straight-alpha PNGs, with the local job's encoder. */
async function encodeComposite(tools: MediaTools, input: JoinInput, pngFolder: string, background: CompositeOver, finalStem: string): Promise<PublishedOutput> {
  const encoder = await ClipEncoder.start(tools, {
    width: input.width,
    height: input.height,
    frameRate: input.frameRate,
    input: 'rgba',
    outputs: [{ kind: 'composite', path: finalStem }],
    firstFrameNumber: input.firstFrame,
    compositeBackground: background,
    ...(input.signal ? { signal: input.signal } : {}),
  });
  try {
    const names = (await readdir(pngFolder)).filter((n) => n.endsWith('.png')).sort();
    for (const name of names) {
      input.signal?.throwIfAborted();
      const { data, info } = await sharp(path.join(pngFolder, name)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      if (info.width !== input.width || info.height !== input.height || info.channels !== 4)
        throw new FarmError('join_failed', `segment frame ${name} is ${info.width}x${info.height}x${info.channels}`);
      await encoder.write(data);
    }
    const [out] = await encoder.finish();
    return out!;
  } catch (err) {
    await encoder.abort();
    throw err;
  }
}

export interface JoinTarget {
  readonly kinds: readonly ClipOutputKind[];
  /** Output path stem of the job (kind and extension are appended). */
  readonly stem: string;
  readonly composite?: CompositeOver;
}

/** Joins every requested output; on failure what was published so far is left for the caller to list. */
export async function joinSegments(tools: MediaTools, input: JoinInput, target: JoinTarget, published: PublishedOutput[]): Promise<void> {
  let pngFolder: string | undefined;
  if (target.kinds.includes('png') || target.kinds.includes('composite')) pngFolder = await joinPngFolder(input);
  for (const kind of target.kinds) {
    const finalPath = `${target.stem}_${kind}${outputExtension(kind)}`;
    if (kind === 'prores4444' || kind === 'matte') published.push({ kind, path: await joinMov(tools, input, kind, finalPath) });
    else if (kind === 'composite') published.push(await encodeComposite(tools, input, pngFolder!, target.composite ?? { color: '#00ff00' }, `${target.stem}_composite`));
  }
  // The png folder last: the composite reads from it.
  if (target.kinds.includes('png')) published.push({ kind: 'png', path: await publishNoClobber(pngFolder!, `${target.stem}_png`) });
  published.sort((a, b) => target.kinds.indexOf(a.kind) - target.kinds.indexOf(b.kind));
}
