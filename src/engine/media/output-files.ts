// Where outputs go and how they appear: a temp name in the destination folder while being
// written, then moved to a fresh final name that never replaces an existing file or folder.
import { randomBytes } from 'node:crypto';
import { access, constants, link, lstat, mkdir, rename, rm, stat, statfs, unlink } from 'node:fs/promises';
import path from 'node:path';
import { MediaInputError } from './errors.js';

/** The default output folder: beside the source media, so mattes travel with the footage. */
export const DEFAULT_OUTPUT_FOLDER = 'CleanPlate Mattes';

export function defaultOutputDir(mediaPath: string): string {
  return path.join(path.dirname(path.resolve(mediaPath)), DEFAULT_OUTPUT_FOLDER);
}

/**
 * mkdir -p, one level at a time. Node's own `recursive: true` never returns for some paths (it
 * loops on /proc/self/x, holding a libuv thread forever); a plain mkdir answers at once.
 */
async function makeFolders(dir: string): Promise<void> {
  const missing: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    const found = await stat(d).then(
      (s) => s,
      (err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err)),
    );
    if (found) {
      if (!found.isDirectory()) throw Object.assign(new Error(`${d} is not a folder`), { code: 'ENOTDIR' });
      break;
    }
    if (path.dirname(d) === d) break;
    missing.unshift(d);
  }
  for (const d of missing) {
    await mkdir(d).catch((err: NodeJS.ErrnoException) => (err.code === 'EEXIST' ? undefined : Promise.reject(err)));
  }
}

/** Linux kernel filesystems (statfs f_type) that hold no user files: /proc, /sys and kin. */
const VIRTUAL_FILESYSTEMS = new Map<number, string>([
  [0x9fa0, 'proc'],
  [0x62656572, 'sysfs'],
  [0x1cd1, 'devpts'],
  [0x63677270, 'cgroup2'],
  [0x27e0eb, 'cgroup'],
  [0x64626720, 'debugfs'],
  [0x74726163, 'tracefs'],
  [0x73636673, 'securityfs'],
  [0x62656570, 'configfs'],
  [0xcafe4a11, 'bpf'],
  [0x6e736673, 'nsfs'],
]);

/** The kernel filesystem a path (or its nearest existing parent) is on, if it is one of those. */
async function virtualFilesystem(dir: string): Promise<string | undefined> {
  let at = path.resolve(dir);
  for (;;) {
    try {
      return VIRTUAL_FILESYSTEMS.get((await statfs(at)).type);
    } catch {
      const up = path.dirname(at);
      if (up === at) return undefined;
      at = up;
    }
  }
}

/**
 * Creates the folder if needed and proves it a regular writable folder: not on a kernel
 * filesystem (/proc, /sys: writes there are not files), and a probe file can be created and
 * removed. A symlink to a folder is fine (outputs never replace a file there either: publishNoClobber).
 */
export async function ensureWritableDir(dir: string): Promise<void> {
  const virtual = process.platform === 'linux' ? await virtualFilesystem(dir) : undefined;
  if (virtual) throw new MediaInputError('output_dir_unwritable', `output folder ${dir} is on the kernel's ${virtual} filesystem, not a regular folder: choose a folder on a disk`);
  try {
    await makeFolders(dir);
    const st = await stat(dir);
    if (!st.isDirectory()) throw new Error('not a folder');
    await access(dir, constants.W_OK);
    const probe = path.join(dir, `.cleanplate-write-test-${randomBytes(4).toString('hex')}`);
    await mkdir(probe);
    await rm(probe, { recursive: true, force: true });
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new MediaInputError('output_dir_unwritable', `output folder ${dir} cannot be written (${why})`);
  }
}

/** A hidden temp name beside `finalPath`, unique per call. */
export function tempNameFor(finalPath: string): string {
  return path.join(path.dirname(finalPath), `.${path.basename(finalPath)}.partial-${randomBytes(4).toString('hex')}`);
}

/** The n-th candidate name: "a.mov", "a (2).mov", "a (3).mov", ... */
export function candidateName(finalPath: string, n: number): string {
  if (n <= 1) return finalPath;
  const ext = path.extname(finalPath);
  return `${finalPath.slice(0, finalPath.length - ext.length)} (${n})${ext}`;
}

async function exists(p: string): Promise<boolean> {
  try {
    await lstat(p);
    return true;
  } catch {
    return false;
  }
}

/** Errors from file systems without hard links (FAT/exFAT drives, some network shares). */
const NO_HARD_LINKS = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EXDEV', 'EMLINK']);

/**
 * Moves a finished temp file or folder to the first free name among `finalPath`, "name (2)", ...
 * Files use a hard link, which fails instead of replacing when the name was taken meanwhile;
 * folders (and file systems without links) check first, then rename.
 */
export async function publishNoClobber(tempPath: string, finalPath: string): Promise<string> {
  const isDir = (await lstat(tempPath)).isDirectory();
  for (let n = 1; n < 10_000; n++) {
    const candidate = candidateName(finalPath, n);
    if (!isDir) {
      try {
        await link(tempPath, candidate);
        await unlink(tempPath);
        return candidate;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code ?? '';
        if (code === 'EEXIST') continue;
        if (!NO_HARD_LINKS.has(code)) throw err;
      }
    }
    if (await exists(candidate)) continue;
    await rename(tempPath, candidate);
    return candidate;
  }
  throw new Error(`no free file name for ${finalPath}`);
}

/**
 * Publishes several temp outputs as one (a job's outputs): every one gets a fresh final name, or,
 * when one fails, those already published are moved back to their temp names (the caller removes
 * the temps) and the error is thrown. Only a published name that is still the very file or folder
 * moved there (same device and inode) is moved back: nothing the user put there is touched.
 */
export async function publishAllNoClobber(items: readonly { readonly temp: string; readonly final: string }[]): Promise<string[]> {
  const done: { temp: string; at: string; dev: number; ino: number }[] = [];
  try {
    for (const { temp, final } of items) {
      const { dev, ino } = await lstat(temp);
      done.push({ temp, at: await publishNoClobber(temp, final), dev, ino });
    }
    return done.map((d) => d.at);
  } catch (err) {
    for (const d of done.reverse()) {
      const now = await lstat(d.at).catch(() => undefined);
      if (now && now.dev === d.dev && now.ino === d.ino && !(await exists(d.temp))) await rename(d.at, d.temp).catch(() => undefined);
    }
    throw err;
  }
}
