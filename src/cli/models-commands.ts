// The command lines behind `npm run models:fetch` and `npm run models:add` (scripts/ only call
// these): argument parsing, a progress bar on stderr, and one clear sentence per failure with a
// non-zero exit code.
import type { Writable } from 'node:stream';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ProgressBar } from './progress.js';
import { defaultModelsDir } from '../engine/matting/manifest.js';
import { addModel } from '../engine/models/add-model.js';
import type { DownloadProgress } from '../engine/models/download.js';
import { fetchModels } from '../engine/models/fetch-model.js';
import { messageOf } from '../shared/error-message.js';

export interface CommandIo {
  readonly out: (line: string) => void;
  readonly err: Writable & { isTTY?: boolean; columns?: number };
}

const defaultIo: CommandIo = { out: (line) => process.stdout.write(`${line}\n`), err: process.stderr };

/** The repository's models/ unless --models-dir says otherwise (tests, several checkouts). */
function modelsDirFrom(flag: string | undefined): string {
  return flag ?? defaultModelsDir;
}

const MB = (n: number) => (n / 1e6).toFixed(1);

/** One progress bar per model on stderr (the CLI's bar, counting kB); a plain line when the size is unknown. */
function progressPrinter(stream: CommandIo['err']): (id: string, p: DownloadProgress) => void {
  const bars = new Map<string, ProgressBar | null>();
  return (id, p) => {
    let bar = bars.get(id);
    if (bar === undefined) {
      bar = p.total ? new ProgressBar(Math.ceil(p.total / 1000), { unit: 'kB', stream }) : null;
      bars.set(id, bar);
      stream.write(`${id}: downloading${p.total ? ` ${MB(p.total)} MB` : ''}${p.resumedFrom > 0 ? `, resuming at ${MB(p.resumedFrom)} MB` : ''}\n`);
    }
    if (!bar) return;
    const done = p.received >= p.total!;
    bar.update(done ? Math.ceil(p.total! / 1000) : Math.floor(p.received / 1000), id);
    if (done) bar.finish();
  };
}

const FETCH_USAGE = `usage: npm run models:fetch [id] [-- --accept-unverified] [--restart] [--models-dir DIR]
  id                   a model from models/manifest.json (default: every model with a download URL)
  --accept-unverified  download a model whose sha256 the manifest does not know yet, then record it
  --restart            discard a partial download instead of resuming it`;

/** A script's command line; or, once the usage is printed, the exit code: 0 for --help, 2 for a line parseArgs refuses. */
function scriptArgs<T extends ParseArgsConfig>(script: string, usage: string, io: CommandIo, config: T): ReturnType<typeof parseArgs<T>> | number {
  let args;
  try {
    args = parseArgs(config);
  } catch (err) {
    io.err.write(`${script}: ${messageOf(err)}\n${usage}\n`);
    return 2;
  }
  if ((args.values as { help?: boolean }).help) {
    io.out(usage);
    return 0;
  }
  return args;
}

export async function runFetchCommand(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  const args = scriptArgs('models:fetch', FETCH_USAGE, io, {
    args: [...argv],
    allowPositionals: true,
    options: {
      'accept-unverified': { type: 'boolean' },
      restart: { type: 'boolean' },
      'models-dir': { type: 'string' },
      'idle-timeout': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (typeof args === 'number') return args;
  if (args.positionals.length > 1) {
    io.err.write(`models:fetch: one model id at a time\n${FETCH_USAGE}\n`);
    return 2;
  }
  const idle = args.values['idle-timeout'] === undefined ? undefined : Number(args.values['idle-timeout']) * 1000;
  try {
    const outcomes = await fetchModels(args.positionals[0], {
      modelsDir: modelsDirFrom(args.values['models-dir']),
      ...(args.values['accept-unverified'] ? { acceptUnverified: true } : {}),
      ...(args.values.restart ? { restart: true } : {}),
      ...(idle && idle > 0 ? { idleTimeoutMs: idle } : {}),
      onProgress: progressPrinter(io.err),
    });
    if (outcomes.length === 0) io.out('models:fetch: nothing to fetch');
    for (const o of outcomes) {
      if (o.status === 'present' && o.mine) io.out(`${o.id}: ${o.file} is your own file (${o.mine.source}), in use as it is; to fetch the official file, move yours away first`);
      else if (o.status === 'present') io.out(`${o.id}: already in ${o.file}${o.verified ? ' (sha256 verified)' : ' (no sha256 in the manifest to verify it)'}`);
      else {
        io.out(`${o.id}: installed ${o.file} (sha256 ${o.sha256}${o.resumedFrom > 0 ? `, resumed at ${MB(o.resumedFrom)} MB` : ''})`);
        if (o.recordedSha256) io.out(`${o.id}: recorded its sha256 in models/manifest.json; later downloads are checked against it`);
      }
    }
    return 0;
  } catch (err) {
    io.err.write(`models:fetch: ${messageOf(err)}\n`);
    return 1;
  }
}

const ADD_USAGE = `usage: npm run models:add <file.onnx> [-- --id ID] [--preset hd|4k] [--models-dir DIR]
  --id      the manifest entry the file is for (default: found by sha256 or official file name);
            a new id adds an entry and needs --preset (the settings the export was made with)`;

export async function runAddCommand(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  const args = scriptArgs('models:add', ADD_USAGE, io, {
    args: [...argv],
    allowPositionals: true,
    options: { id: { type: 'string' }, preset: { type: 'string' }, 'models-dir': { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (typeof args === 'number') return args;
  const [file, ...rest] = args.positionals;
  if (!file || rest.length > 0) {
    io.err.write(`models:add: give exactly one model file\n${ADD_USAGE}\n`);
    return 2;
  }
  try {
    const o = await addModel(file, {
      modelsDir: modelsDirFrom(args.values['models-dir']),
      ...(args.values.id ? { id: args.values.id } : {}),
      ...(args.values.preset ? { preset: args.values.preset } : {}),
    });
    const whose = o.origin === 'user' && !o.newEntry ? ", recorded as your own file in models/local-files.json (the manifest keeps upstream's sha256 and URL)" : '';
    io.out(
      o.status === 'added'
        ? `${o.id}: installed ${o.file} (sha256 ${o.sha256})${o.newEntry ? ', new entry in models/manifest.json' : whose}`
        : `${o.id}: already installed as ${o.file} (sha256 ${o.sha256})`,
    );
    return 0;
  } catch (err) {
    io.err.write(`models:add: ${messageOf(err)}\n`);
    return 1;
  }
}
