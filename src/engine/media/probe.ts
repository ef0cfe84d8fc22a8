// ffprobe JSON -> what the engine needs to know about a clip: size as displayed (rotation
// applied, as ffmpeg's decoder autorotates), the rational frame rate, frame count, pixel format
// and bit depth, and whether it is a still image, audio-only or variable-rate.
import { stat } from 'node:fs/promises';
import { MediaInputError, ToolFailedError } from './errors.js';
import type { MediaTools } from './ffmpeg-locate.js';
import { formatRational, parseRational, rationalValue, type Rational } from './frame-range.js';
import { runTool, ToolTimeoutError } from './process.js';

export interface VideoInfo {
  readonly path: string;
  /** Stream index in the file. */
  readonly streamIndex: number;
  readonly codec: string;
  /** Size as displayed, i.e. after rotation: what decoded frames and outputs have. */
  readonly width: number;
  readonly height: number;
  /** Display rotation in degrees (0, 90, 180, 270) that the decoder applies. */
  readonly rotation: number;
  readonly frameRate: Rational;
  readonly frameRateText: string;
  readonly timeBase: Rational;
  /** Presentation time of the first video frame, seconds (container time). */
  readonly startTime: number;
  /** Earliest start over all streams: what ffmpeg's input `-ss` counts from. */
  readonly formatStartTime: number;
  readonly frameCount: number;
  /** False when the count is estimated from the duration (no frame count in the container). */
  readonly frameCountExact: boolean;
  readonly durationSeconds: number;
  readonly pixFmt: string;
  readonly bitDepth: number;
  readonly hasAudio: boolean;
  readonly isStillImage: boolean;
}

interface ProbeStream {
  index: number;
  codec_type?: string;
  codec_name?: string;
  width?: number;
  height?: number;
  pix_fmt?: string;
  r_frame_rate?: string;
  avg_frame_rate?: string;
  time_base?: string;
  start_time?: string;
  duration?: string;
  nb_frames?: string;
  bits_per_raw_sample?: string;
  disposition?: { attached_pic?: number };
  tags?: Record<string, string>;
  side_data_list?: { side_data_type?: string; rotation?: number }[];
}

interface ProbeJson {
  streams?: ProbeStream[];
  format?: { format_name?: string; start_time?: string; duration?: string };
}

const STILL_FORMATS = /(^|,)(image2|[a-z0-9]+_pipe|apng|gif|webp)(,|$)/;

/**
 * Variable rate: the frame count differs from duration x nominal rate by more than this share
 * (and more than 1.5 frames, as container durations are rounded, e.g. to 1 ms in Matroska).
 */
const VFR_TOLERANCE = 0.01;

/** True when `frames` frames over `seconds` cannot be a constant `rate` stream. */
export function looksVariableRate(frames: number, seconds: number, rate: Rational): boolean {
  if (!(frames > 0 && seconds > 0)) return false;
  const expected = seconds * rationalValue(rate);
  return Math.abs(frames - expected) > Math.max(1.5, VFR_TOLERANCE * expected);
}

function rotationOf(s: ProbeStream): number {
  const fromSideData = s.side_data_list?.find((d) => typeof d.rotation === 'number')?.rotation;
  const raw = fromSideData ?? Number(s.tags?.rotate ?? 0);
  const r = Math.round(Number.isFinite(raw) ? raw : 0);
  return (((r % 360) + 360) % 360) as number;
}

function bitDepthOf(s: ProbeStream): number {
  const m = /p(9|10|12|14|16)(le|be)?$/.exec(s.pix_fmt ?? '') ?? /^(?:gray|rgb48|rgba64|bgr48|bgra64)(\d+)?/.exec(s.pix_fmt ?? '');
  if (m?.[1]) return Number(m[1]);
  const raw = Number(s.bits_per_raw_sample);
  return Number.isInteger(raw) && raw > 0 ? raw : 8;
}

function num(text: string | undefined): number | undefined {
  const v = Number(text);
  return text !== undefined && text !== 'N/A' && Number.isFinite(v) ? v : undefined;
}

/** ffprobe's deadlines: reading headers is quick; counting packets reads the whole file. */
export const PROBE_TIMEOUT_MS = 60_000;
const COUNT_TIMEOUT_MS = 300_000;

async function countPackets(tools: MediaTools, file: string, streamIndex: number, signal?: AbortSignal): Promise<number> {
  try {
    const out = await runTool(
      tools.ffprobe.path,
      ['-v', 'error', '-select_streams', String(streamIndex), '-count_packets', '-show_entries', 'stream=nb_read_packets', '-of', 'csv=p=0', '--', file],
      signal,
      COUNT_TIMEOUT_MS,
    );
    return num(out.toString('utf8').trim().split(/[\s,]/)[0]) ?? 0;
  } catch (err) {
    if (signal?.aborted) throw err;
    return 0;
  }
}

/** Probes a media file; throws MediaInputError for anything that is not a readable video or image. */
export async function probeMedia(tools: MediaTools, file: string, signal?: AbortSignal, timeoutMs = PROBE_TIMEOUT_MS): Promise<VideoInfo> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new MediaInputError('not_a_video', `${file} is not a file`);
  } catch (err) {
    if (err instanceof MediaInputError) throw err;
    throw new MediaInputError('media_not_found', `media file not found: ${file}`);
  }
  let json: ProbeJson;
  try {
    const out = await runTool(tools.ffprobe.path, ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '--', file], signal, timeoutMs);
    json = JSON.parse(out.toString('utf8')) as ProbeJson;
  } catch (err) {
    if (signal?.aborted) throw err;
    if (err instanceof ToolTimeoutError) throw new MediaInputError('media_unreadable', `${file} could not be probed: ${err.message}`);
    const why = err instanceof ToolFailedError ? err.stderrTail.trim().split('\n').pop() : String(err);
    throw new MediaInputError('not_a_video', `${file} is not a readable video or image (${why})`);
  }
  const streams = json.streams ?? [];
  const video = streams.find((s) => s.codec_type === 'video' && !s.disposition?.attached_pic);
  const hasAudio = streams.some((s) => s.codec_type === 'audio');
  if (!video) {
    if (hasAudio) throw new MediaInputError('no_video_stream', `${file} has audio but no video stream`);
    throw new MediaInputError('not_a_video', `${file} has no video stream`);
  }
  const codedW = video.width ?? 0;
  const codedH = video.height ?? 0;
  if (!(codedW > 0 && codedH > 0)) throw new MediaInputError('media_unreadable', `${file}: the video stream has no frame size (corrupt?)`);
  const rotation = rotationOf(video);
  const swap = rotation === 90 || rotation === 270;
  const formatName = json.format?.format_name ?? '';
  const isStillImage = STILL_FORMATS.test(formatName);
  const nominal = parseRational(video.r_frame_rate);
  const startTime = num(video.start_time) ?? 0;
  const durationSeconds = num(video.duration) ?? num(json.format?.duration) ?? 0;
  let nb = num(video.nb_frames) ?? num(video.tags?.NUMBER_OF_FRAMES) ?? num(video.tags?.['NUMBER_OF_FRAMES-eng']);
  if (!isStillImage && !(nb !== undefined && nb > 0)) {
    // No frame count in the header (Matroska, MPEG-TS): count packets (demuxing only, no
    // decoding); the count also serves the VFR check.
    nb = await countPackets(tools, file, video.index, signal);
  }
  const frameRate = nominal ?? parseRational(video.avg_frame_rate) ?? { num: 25, den: 1 };
  if (!isStillImage && nominal && nb !== undefined && looksVariableRate(nb, durationSeconds, nominal)) {
    throw new MediaInputError(
      'variable_frame_rate',
      `${file} has a variable frame rate (${nb} frames in ${durationSeconds.toFixed(3)} s, nominal ${formatRational(nominal)} fps, average ${(nb / durationSeconds).toFixed(3)}): ` +
        `frame numbers would not match the editor's. Convert it to a constant rate first, e.g. ` +
        `ffmpeg -i in.mp4 -vf fps=${formatRational(nominal)} -c:v prores_ks -profile:v 3 out.mov`,
    );
  }
  let frameCount: number;
  let frameCountExact: boolean;
  if (isStillImage) {
    frameCount = 1;
    frameCountExact = true;
  } else if (nb !== undefined && nb > 0) {
    frameCount = nb;
    frameCountExact = true;
  } else {
    frameCount = Math.round((durationSeconds * frameRate.num) / frameRate.den);
    frameCountExact = false;
  }
  if (!(frameCount > 0)) throw new MediaInputError('media_unreadable', `${file}: the video stream has no frames (corrupt or empty?)`);
  return {
    path: file,
    streamIndex: video.index,
    codec: video.codec_name ?? 'unknown',
    width: swap ? codedH : codedW,
    height: swap ? codedW : codedH,
    rotation,
    frameRate,
    frameRateText: formatRational(frameRate),
    timeBase: parseRational(video.time_base) ?? { num: 1, den: 90000 },
    startTime,
    formatStartTime: num(json.format?.start_time) ?? startTime,
    frameCount,
    frameCountExact,
    durationSeconds,
    pixFmt: video.pix_fmt ?? 'unknown',
    bitDepth: bitDepthOf(video),
    hasAudio,
    isStillImage,
  };
}
