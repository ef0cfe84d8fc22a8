// `cleanplate matte <image|folder> --plate <image|folder>`: stills in, alpha / foreground /
// composite PNGs out (BGMv2's inference_images). Everything about the command line is checked
// before any work; then each image is matted in this process, one after another, and a bad image
// is reported and skipped rather than ending the run. Existing files are never replaced unless
// --overwrite is given: a fresh name ("x.alpha (2).png") is picked instead.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { DEFAULT_COMPOSITE_COLOR, MATTE_OUTPUTS, type AlignMode, type MatteOutput } from '../../shared/api.js';
import { writeFileAtomic } from '../../engine/fs/atomic.js';
import { MattingInputError } from '../../engine/matting/errors.js';
import { ModelRegistry } from '../../engine/matting/registry.js';
import type { Frame } from '../../engine/frame.js';
import { MediaInputError } from '../../engine/media/errors.js';
import { decodeImage, ImageInputError, parseHexColor } from '../../engine/media/image.js';
import { DEFAULT_OUTPUT_FOLDER, defaultOutputDir, ensureWritableDir, publishNoClobber, tempNameFor } from '../../engine/media/output-files.js';
import { MattingService } from '../../engine/services/matting-service.js';
import { matteStill, parseOutputs } from '../../engine/services/stills.js';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../command.js';
import { ProgressBar } from '../progress.js';
import { ALIGN_OPTION, ALIGN_USAGE, alignFrom, alignSummary } from './align-option.js';
import type { MatteHandler, OptionValues } from './handler.js';
import { messageOf } from '../../shared/error-message.js';

/** File name endings taken as still images when scanning folders. */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.webp', '.tif', '.tiff', '.gif', '.heic', '.heif', '.avif']);

function isImageName(name: string): boolean {
  return !name.startsWith('.') && IMAGE_EXTENSIONS.has(path.extname(name).toLowerCase());
}

/** The image files directly in a folder, in natural order (frame2 before frame10). */
async function listImages(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && isImageName(e.name))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }))
    .map((n) => path.join(dir, n));
}

function stem(file: string): string {
  return path.basename(file, path.extname(file));
}

interface Plan {
  readonly images: string[];
  /** Plate file per image (same file for all when --plate is one image); absent for plate-free models. */
  readonly plates: Map<string, string>;
  readonly outputDirFor: (image: string) => string;
  readonly outputs: MatteOutput[];
  readonly compositeColor: { r: number; g: number; b: number };
  /** --composite-over: the image's bytes (checked to decode). */
  readonly compositeOver: Uint8Array | undefined;
  readonly model: string;
  readonly overwrite: boolean;
  readonly folder: boolean;
  readonly align: AlignMode | undefined;
}

const str = (v: string | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);

/** Checks the whole command line against the file system; throws UsageError on anything wrong. */
async function plan(input: string, values: OptionValues, registry: ModelRegistry): Promise<Plan> {
  const outputsText = str(values.outputs) ?? 'alpha';
  const outputs = parseOutputs(outputsText);
  if (!outputs) throw new UsageError(`--outputs must be a comma list of ${MATTE_OUTPUTS.join(', ')}; got "${outputsText}"`);
  const colorText = str(values['composite-color']) ?? DEFAULT_COMPOSITE_COLOR;
  const compositeColor = parseHexColor(colorText);
  if (!compositeColor) throw new UsageError(`--composite-color must be #rrggbb; got "${colorText}"`);
  const overPath = str(values['composite-over']);
  if (overPath && str(values['composite-color'])) throw new UsageError('give --composite-color or --composite-over, not both');
  let compositeOver: Uint8Array | undefined;
  if (overPath) {
    if (!IMAGE_EXTENSIONS.has(path.extname(overPath).toLowerCase())) throw new UsageError(`--composite-over for images takes an image (${[...IMAGE_EXTENSIONS].join(' ')}); got "${overPath}"`);
    compositeOver = await readFile(overPath).catch((err: NodeJS.ErrnoException) => {
      throw new UsageError(`--composite-over: cannot read ${overPath} (${err.code ?? err.message})`);
    });
    await decodeImage(compositeOver, path.basename(overPath)).catch((err: unknown) => {
      throw new UsageError(`--composite-over: ${messageOf(err)}`);
    });
  }

  const model = str(values.model) ?? registry.defaultId;
  // The default is the best model present: say which and why (and what would be better).
  if (!str(values.model)) process.stderr.write(`default model ${registry.defaultModel.reason}\n`);
  const info = registry.list().find((m) => m.id === model);
  if (!info)
    throw new UsageError(
      `unknown model "${model}"; known: ${registry
        .list()
        .map((m) => m.id)
        .join(', ')}`,
    );
  if (!info.available) throw new UsageError(`model "${model}" is not available: ${info.unavailableReason}`);

  const folder = await readdir(input)
    .then(() => true)
    .catch(() => false);
  const images = folder ? await listImages(input) : [input];
  if (images.length === 0) throw new UsageError(`no images in ${input} (looked for ${[...IMAGE_EXTENSIONS].join(' ')})`);

  const plates = new Map<string, string>();
  const platePath = str(values.plate);
  if (info.needsPlate && !platePath) throw new UsageError(`--plate is required: model "${model}" needs a clean plate (an image, or a folder of plates named like the images)`);
  if (platePath) {
    const plateIsFolder = await readdir(platePath)
      .then(() => true)
      .catch(() => false);
    if (plateIsFolder) {
      const byStem = new Map<string, string[]>();
      for (const p of await listImages(platePath)) byStem.set(stem(p), [...(byStem.get(stem(p)) ?? []), p]);
      const missing: string[] = [];
      for (const image of images) {
        const candidates = byStem.get(stem(image)) ?? [];
        if (candidates.length > 1) throw new UsageError(`several plates match ${path.basename(image)}: ${candidates.map((c) => path.basename(c)).join(', ')}`);
        if (candidates[0]) plates.set(image, candidates[0]);
        else missing.push(path.basename(image));
      }
      if (missing.length > 0) {
        const shown = missing.slice(0, 5).join(', ') + (missing.length > 5 ? `, and ${missing.length - 5} more` : '');
        throw new UsageError(`no plate in ${platePath} for ${shown} (plates are paired with images by file name, e.g. shot1.jpg with shot1.png)`);
      }
    } else {
      const exists = await readFile(platePath).then(
        () => true,
        () => false,
      );
      if (!exists) throw new UsageError(`plate not found: ${platePath}`);
      for (const image of images) plates.set(image, platePath);
    }
  }

  // One image against one plate: a size mismatch is a wrong input, refused before any work (exit 2,
  // as for clips). In a folder it fails that image only (reported by name, exit 1).
  if (!folder && platePath && plates.get(input) === platePath) {
    const [a, b] = await Promise.all(
      [input, platePath].map((f) =>
        sharp(f)
          .metadata()
          .catch(() => undefined),
      ),
    );
    if (a?.width && b?.width && (a.width !== b.width || a.height !== b.height)) {
      throw new UsageError(`the plate (background) is ${b.width}x${b.height} but the image is ${a.width}x${a.height}: they must be the same size`);
    }
  }

  const outputDir = str(values['output-dir']);
  const outputDirFor = (image: string): string => (outputDir ? path.resolve(outputDir) : defaultOutputDir(image));
  return { images, plates, outputDirFor, outputs, compositeColor, compositeOver, model, overwrite: values.overwrite === true, folder, align: alignFrom(values) };
}

/** Writes one output file completely before it appears under its name; returns the name used. */
async function writeOutput(finalPath: string, bytes: Buffer, overwrite: boolean): Promise<string> {
  if (overwrite) {
    await writeFileAtomic(finalPath, bytes);
    return finalPath;
  }
  const temp = tempNameFor(finalPath);
  await writeFile(temp, bytes, { flag: 'wx' });
  return publishNoClobber(temp, finalPath);
}

/** Errors that are about one input (reported, run continues) rather than the program. */
function isInputError(err: unknown): err is Error {
  return err instanceof ImageInputError || err instanceof MattingInputError;
}

async function run(input: string, values: OptionValues): Promise<number> {
  const registry = await ModelRegistry.load();
  const p = await plan(input, values, registry);
  const matting = new MattingService(registry);
  // Plates shared by many images are decoded once.
  const plateCache = new Map<string, Promise<Frame>>();
  const plateFor = (image: string): Promise<Frame> | undefined => {
    const file = p.plates.get(image);
    if (!file) return undefined;
    let frame = plateCache.get(file);
    if (!frame) {
      frame = readFile(file).then((bytes) => decodeImage(bytes, `plate ${path.basename(file)}`));
      plateCache.set(file, frame);
    }
    return frame;
  };
  // One plate for everything: a bad plate is a bad command line, found before any work.
  if (new Set(p.plates.values()).size === 1) {
    try {
      await plateFor(p.images[0]!);
    } catch (err) {
      if (err instanceof ImageInputError) throw new UsageError(err.message);
      throw err;
    }
  }

  // Last check, as it creates the folders: nothing is made for a command line that cannot work.
  for (const dir of new Set(p.images.map(p.outputDirFor))) {
    try {
      await ensureWritableDir(dir);
    } catch (err) {
      if (err instanceof MediaInputError) throw new UsageError(err.message);
      throw err;
    }
  }

  const bar = p.folder ? new ProgressBar(p.images.length, { unit: 'images' }) : undefined;
  let stopRequested = false;
  const onInterrupt = (): void => {
    stopRequested = true;
    (bar?.log.bind(bar) ?? ((m: string) => process.stderr.write(`${m}\n`)))('interrupted: stopping after the current image (Ctrl-C again to quit at once)');
  };
  process.once('SIGINT', onInterrupt);
  const report = (message: string): void => (bar ? bar.log(message) : void process.stderr.write(`${message}\n`));

  let done = 0;
  const failures: string[] = [];
  let provider = '';
  try {
    for (const file of p.images) {
      if (stopRequested) break;
      const name = path.basename(file);
      try {
        const bytes = await readFile(file).catch((err: NodeJS.ErrnoException) => {
          throw new ImageInputError('bad_image', `${name} cannot be read (${err.code ?? err.message})`);
        });
        const image = await decodeImage(bytes, name);
        const plate = await plateFor(file);
        const result = await matteStill(matting, {
          image,
          ...(plate ? { plate } : {}),
          model: p.model,
          outputs: p.outputs,
          compositeColor: p.compositeColor,
          ...(p.compositeOver ? { compositeOver: p.compositeOver } : {}),
          ...(p.align ? { align: p.align } : {}),
        });
        for (const line of alignSummary(result.align, name)) report(line);
        provider = result.provider;
        for (const output of p.outputs) {
          const written = await writeOutput(path.join(p.outputDirFor(file), `${stem(file)}.${output}.png`), result.png[output]!, p.overwrite);
          process.stdout.write(`${written}\n`);
        }
        done++;
      } catch (err) {
        if (!isInputError(err)) throw err;
        failures.push(name);
        report(err.message.startsWith(name) ? err.message : `${name}: ${err.message}`);
      }
      bar?.tick(1, name);
    }
  } finally {
    process.off('SIGINT', onInterrupt);
    bar?.finish();
    await matting.dispose();
  }

  const where = p.outputDirFor(p.images[0]!);
  const skipped = p.images.length - done - failures.length;
  process.stderr.write(
    `matted ${done} of ${p.images.length} image${p.images.length === 1 ? '' : 's'} with ${p.model}${provider ? ` on ${provider}` : ''} into ${where}` +
      (failures.length ? `; ${failures.length} failed` : '') +
      (skipped ? `; ${skipped} not started (interrupted)` : '') +
      '\n',
  );
  return failures.length > 0 || skipped > 0 ? EXIT_FAILED : EXIT_OK;
}

export const stillsHandler: MatteHandler = {
  name: 'images',
  accepted: `an image (${[...IMAGE_EXTENSIONS].join(' ')}) or a folder of images`,
  usage: [
    'Stills: cleanplate matte <image|folder> --plate <image|folder> [options]',
    '  -p, --plate <path>          the clean plate (scene without the subject), same size as the images;',
    '                              a folder of plates is paired with the images by file name',
    `  -o, --output-dir <dir>      where results go (default: "${DEFAULT_OUTPUT_FOLDER}" beside the images)`,
    `      --outputs <list>        comma list of ${MATTE_OUTPUTS.join(', ')} (default: alpha)`,
    '  -m, --model <id>            model id (default: the default model; see models/manifest.json)',
    `      --composite-color <hex> colour behind the subject in composites (default: ${DEFAULT_COMPOSITE_COLOR})`,
    '      --composite-over <image> or an image behind the subject (scaled to cover the frame)',
    '      --overwrite             replace existing result files (default: write "name (2).png" instead)',
    ALIGN_USAGE,
    'Results: <name>.alpha.png (greyscale), <name>.foreground.png (RGBA), <name>.composite.png; their',
    'paths are printed on stdout, progress and errors on stderr.',
  ].join('\n'),
  options: {
    plate: { type: 'string', short: 'p' },
    'output-dir': { type: 'string', short: 'o' },
    outputs: { type: 'string' },
    model: { type: 'string', short: 'm' },
    'composite-color': { type: 'string' },
    'composite-over': { type: 'string' },
    overwrite: { type: 'boolean' },
    ...ALIGN_OPTION,
  },
  accepts: (input, info) => info.isDirectory() || (info.isFile() && IMAGE_EXTENSIONS.has(path.extname(input).toLowerCase())),
  run,
};
