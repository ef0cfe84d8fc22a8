// `cleanplate matte <clip> --plate <image> | --plate-at <seconds> [--in --out] --output ...`:
// a clip job run in this process (no daemon), BGMv2's inference_video for editors. Same
// planning and pipeline as the engine's /v1/jobs; a progress bar on stderr (frames, fps, ETA),
// output paths on stdout, and Ctrl-C cancels cleanly (ffmpeg stopped, temp files removed).
import path from 'node:path';
import { CLIP_OUTPUT_KINDS, DEFAULT_CLIP_OUTPUTS, type ClipOutputKind, type JobBackground, type JobRange, type JobRequest } from '../../shared/api.js';
import { MattingInputError } from '../../engine/matting/errors.js';
import { ModelRegistry } from '../../engine/matting/registry.js';
import { MediaInputError } from '../../engine/media/errors.js';
import { mediaTools, ToolNotFoundError } from '../../engine/media/ffmpeg-locate.js';
import { ImageInputError, parseHexColor } from '../../engine/media/image.js';
import { DEFAULT_OUTPUT_FOLDER } from '../../engine/media/output-files.js';
import { ALIGN_OPTION, ALIGN_USAGE, alignFrom, alignSummary } from './align-option.js';
import { JobRequestError, planClipJob, runClipJob } from '../../engine/services/clip-job.js';
import { MattingService } from '../../engine/services/matting-service.js';
import { EXIT_CANCELLED, EXIT_OK, UsageError } from '../command.js';
import { ProgressBar } from '../progress.js';
import type { MatteHandler, OptionValues } from './handler.js';
import { messageOf } from '../../shared/error-message.js';

/** File name endings taken as video clips. */
export const VIDEO_EXTENSIONS = new Set(['.mp4', '.mov', '.m4v', '.mkv', '.webm', '.avi', '.mxf', '.mts', '.m2ts', '.ts', '.mpg', '.mpeg', '.wmv', '.flv', '.nut', '.y4m', '.3gp']);
const STILL_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.heic', '.heif', '.avif']);

/** Exit code after Ctrl-C, as shells report a SIGINT death (128 + 2). */
export { EXIT_CANCELLED };

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** "12.5" (seconds) or "300f" (frame number). */
function parsePoint(text: string, option: string): { value: number; frames: boolean } {
  const m = /^\s*(\d+(?:\.\d+)?)(f?)\s*$/.exec(text);
  if (!m) throw new UsageError(`--${option} must be seconds (e.g. 12.5) or a frame number with "f" (e.g. 300f); got "${text}"`);
  const frames = m[2] === 'f';
  const value = Number(m[1]);
  if (frames && !Number.isInteger(value)) throw new UsageError(`--${option}: frame numbers are whole numbers; got "${text}"`);
  return { value, frames };
}

/** Turns the command line into a job request; only the command line is checked here. */
export function clipRequest(input: string, values: OptionValues): JobRequest {
  const outputsText = str(values.output) ?? str(values.outputs);
  let outputs: ClipOutputKind[] = [...DEFAULT_CLIP_OUTPUTS];
  if (outputsText !== undefined) {
    const list = outputsText
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const bad = list.filter((k) => !CLIP_OUTPUT_KINDS.includes(k as ClipOutputKind));
    if (list.length === 0 || bad.length > 0) throw new UsageError(`--output must be a comma list of ${CLIP_OUTPUT_KINDS.join(', ')}; got "${outputsText}"`);
    outputs = [...new Set(list as ClipOutputKind[])];
  }
  const plate = str(values.plate);
  const plateAt = str(values['plate-at']);
  if (plate && plateAt) throw new UsageError('give --plate or --plate-at, not both');
  let background: JobBackground | undefined;
  if (plate) {
    const isStill = STILL_EXTENSIONS.has(path.extname(plate).toLowerCase());
    background = isStill ? { imagePath: path.resolve(plate) } : { mediaPath: path.resolve(plate), timeSeconds: 0 };
  } else if (plateAt) {
    const t = Number(plateAt);
    if (!Number.isFinite(t) || t < 0) throw new UsageError(`--plate-at must be a time in seconds in the clip; got "${plateAt}"`);
    background = { timeSeconds: t };
  }
  let range: JobRange | undefined;
  const inText = str(values.in);
  const outText = str(values.out);
  if (inText !== undefined || outText !== undefined) {
    if (inText === undefined || outText === undefined) throw new UsageError('give both --in and --out (out is the end of the last frame, exclusive)');
    const a = parsePoint(inText, 'in');
    const b = parsePoint(outText, 'out');
    if (a.frames !== b.frames) throw new UsageError('--in and --out must both be seconds or both be frames ("300f")');
    range = { in: a.value, out: b.value, unit: a.frames ? 'frames' : 'seconds' };
  }
  let compositeOver: JobRequest['compositeOver'];
  const color = str(values['composite-color']);
  const over = str(values['composite-over']);
  if (color && over) throw new UsageError('give --composite-color or --composite-over, not both');
  if (color) {
    if (!parseHexColor(color)) throw new UsageError(`--composite-color must be #rrggbb; got "${color}"`);
    compositeOver = { color };
  } else if (over) {
    compositeOver = STILL_EXTENSIONS.has(path.extname(over).toLowerCase()) ? { imagePath: path.resolve(over) } : { videoPath: path.resolve(over) };
  }
  const model = str(values.model);
  const outputDir = str(values['output-dir']);
  const align = alignFrom(values);
  return {
    mediaPath: path.resolve(input),
    ...(range ? { range } : {}),
    ...(background ? { background } : {}),
    ...(model ? { model } : {}),
    outputs,
    ...(outputDir ? { outputDir: path.resolve(outputDir) } : {}),
    ...(compositeOver ? { compositeOver } : {}),
    ...(align ? { align } : {}),
  };
}

/** Errors that mean "the inputs are wrong" (exit 2), as opposed to a failure while working. */
function isInputError(err: unknown): boolean {
  return err instanceof MediaInputError || err instanceof MattingInputError || err instanceof ImageInputError || err instanceof JobRequestError || err instanceof ToolNotFoundError;
}

async function run(input: string, values: OptionValues): Promise<number> {
  const request = clipRequest(input, values);
  const tools = await mediaTools().catch((err: unknown) => {
    throw new UsageError(messageOf(err));
  });
  const registry = await ModelRegistry.load();
  const matting = new MattingService(registry);
  const abort = new AbortController();
  const onSigint = (): void => {
    if (abort.signal.aborted) process.exit(EXIT_CANCELLED); // second Ctrl-C: stop now
    abort.abort(new Error('cancelled'));
  };
  process.on('SIGINT', onSigint);
  try {
    let plan;
    try {
      plan = await planClipJob({ tools, registry }, request);
    } catch (err) {
      if (isInputError(err)) throw new UsageError(messageOf(err));
      throw err;
    }
    const { info, span } = plan;
    process.stderr.write(
      `${path.basename(request.mediaPath)}: frames ${span.first}-${span.first + span.count - 1} (${span.count}) of ${info.width}x${info.height} at ${info.frameRateText} fps -> ${plan.outputs.join(', ')} in ${plan.outputDir}\n` +
        `${request.model ? `model ${plan.modelId}` : `default model ${registry.defaultModel.reason}`}; ffmpeg ${tools.ffmpeg.version} (${tools.ffmpeg.source}); Ctrl-C cancels\n`,
    );
    const bar = new ProgressBar(span.count, { unit: 'frames' });
    try {
      const result = await runClipJob(tools, matting, plan, { signal: abort.signal, onFrame: (done) => bar.update(done) });
      bar.finish();
      for (const line of alignSummary(result.align, path.basename(request.mediaPath))) process.stderr.write(`${line}\n`);
      for (const o of result.outputs) process.stdout.write(`${o.path}\n`);
      return EXIT_OK;
    } catch (err) {
      bar.finish();
      if (abort.signal.aborted) {
        process.stderr.write('cancelled: ffmpeg stopped, partial files removed, nothing written\n');
        return EXIT_CANCELLED;
      }
      throw err;
    }
  } finally {
    process.off('SIGINT', onSigint);
    await matting.dispose();
  }
}

export const clipsHandler: MatteHandler = {
  name: 'clips',
  accepted: `a video clip (${[...VIDEO_EXTENSIONS].join(' ')})`,
  usage: [
    'Clips: cleanplate matte <clip> (--plate <image|video> | --plate-at <seconds>) [options]',
    '  -p, --plate <path>          the clean plate: an image, or a video whose first frame is the plate',
    '      --plate-at <seconds>    take the plate from the clip itself, at this source time',
    '      --in <t>, --out <t>     the range: seconds (12.5) or frame numbers (300f); out is exclusive',
    "                              (the end of the last frame, like an editor's out point). Default: all",
    `      --output <list>         comma list of ${CLIP_OUTPUT_KINDS.join(', ')} (default: ${DEFAULT_CLIP_OUTPUTS.join(',')});`,
    '                              --outputs is the same',
    `  -o, --output-dir <dir>      where results go (default: "${DEFAULT_OUTPUT_FOLDER}" beside the clip)`,
    '  -m, --model <id>            model id (default: the default model)',
    '      --composite-color <hex> colour behind the subject in "composite" (default #00ff00)',
    '      --composite-over <path> or an image / video (looped) behind the subject',
    ALIGN_USAGE,
    'Results: <clip>_f<first>-<last>_prores4444.mov (ProRes 4444, straight alpha), _matte.mov (luma matte',
    'for Track Matte Key), _png/ (RGBA frames numbered by source frame), _composite.mp4. Existing files',
    'are never replaced ("name (2).mov" instead). Paths on stdout; progress on stderr. Ctrl-C cancels.',
  ].join('\n'),
  options: {
    plate: { type: 'string', short: 'p' },
    'plate-at': { type: 'string' },
    in: { type: 'string' },
    out: { type: 'string' },
    output: { type: 'string' },
    outputs: { type: 'string' },
    'output-dir': { type: 'string', short: 'o' },
    model: { type: 'string', short: 'm' },
    'composite-color': { type: 'string' },
    'composite-over': { type: 'string' },
    ...ALIGN_OPTION,
  },
  accepts: (input, info) => info.isFile() && VIDEO_EXTENSIONS.has(path.extname(input).toLowerCase()),
  run,
};
