// What a killed engine leaves behind, and how a restarted one cleans it up without touching
// anything it cannot prove it made (docs/security.md, "Restart"):
// - processes: only the encoder PID the job recorded, and only while /proc shows it is still that
//   ffmpeg (same executable), run by this user, writing exactly the job's temp outputs;
// - files: only names the engine makes (tempNameFor: ".<name>.partial-<8 hex>") directly inside
//   the job's output folder; a temp folder (PNG sequence) only loses its frame_NNNNNN.png files
//   and is then removed if empty. Never a recursive delete, never a symlink followed.
import { lstat, readdir, readFile, readlink, realpath, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';

/** What a job records about its running encoder, to stop it after a crash. */
export interface EncoderRecord {
  readonly pid: number;
  /** The ffmpeg path it was spawned with (argv[0]). */
  readonly executable: string;
}

const TEMP_NAME = /^\.[^/\\]+\.partial-[0-9a-f]{8}$/;
const PNG_FRAME = /^frame_\d{6,}\.png$/;

/** True for a path the engine could have made as a temp output directly inside `outputDir`. */
export function isEngineTempPath(p: string, outputDir: string): boolean {
  if (!path.isAbsolute(p) || !path.isAbsolute(outputDir) || path.normalize(p) !== p || p.endsWith(path.sep)) return false;
  return path.dirname(p) === path.resolve(outputDir) && TEMP_NAME.test(path.basename(p));
}

/** The arguments an encoder writing `temp` has for it (a PNG sequence writes a pattern inside it). */
function namesTemp(argv: readonly string[], temp: string): boolean {
  return argv.includes(temp) || argv.includes(path.join(temp, 'frame_%06d.png'));
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export type StopOutcome = 'stopped' | 'gone' | 'not_ours' | 'unverifiable';

/**
 * Stops the recorded encoder if, and only if, it is provably the one the job started: the
 * engine's own ffmpeg (`ffmpegPath`), this user's, with the job's exact temp outputs. Linux
 * only (/proc); elsewhere nothing is killed: an encoder whose engine died sees its input close
 * and exits by itself.
 */
export async function stopRecordedEncoder(encoder: EncoderRecord, temps: readonly string[], ffmpegPath: string, timeoutMs = 5000): Promise<StopOutcome> {
  if (process.platform !== 'linux' || typeof process.getuid !== 'function') return 'unverifiable';
  const { pid } = encoder;
  if (!Number.isInteger(pid) || pid <= 1 || pid === process.pid || temps.length === 0) return 'not_ours';
  // The record may be forged: whatever it says, only the ffmpeg this engine runs is a candidate.
  if (encoder.executable !== ffmpegPath) return 'not_ours';
  let argv: string[];
  let uid: number;
  try {
    argv = (await readFile(`/proc/${pid}/cmdline`, 'utf8')).split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
    uid = (await stat(`/proc/${pid}`)).uid;
  } catch {
    return 'gone';
  }
  if (uid !== process.getuid()) return 'not_ours';
  if (argv[0] !== encoder.executable || !temps.every((t) => namesTemp(argv, t))) return 'not_ours';
  // The running image must be that executable too (argv[0] alone is whatever the parent chose).
  const [exe, expected] = await Promise.all([readlink(`/proc/${pid}/exe`).catch(() => ''), realpath(encoder.executable).catch(() => '')]);
  if (!exe || !expected || exe.replace(/ \(deleted\)$/, '') !== expected) return 'not_ours';
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    return 'gone';
  }
  for (const deadline = Date.now() + timeoutMs; alive(pid) && Date.now() < deadline;) await new Promise((r) => setTimeout(r, 50));
  return 'stopped';
}

/**
 * Removes one temp output the engine made: a file, or a folder holding only PNG frames. Anything
 * else (a symlink, a folder with other files, a name the engine does not make) is left alone;
 * returns what it left, for the log.
 */
export async function removeEngineTemp(p: string): Promise<string | undefined> {
  if (!TEMP_NAME.test(path.basename(p))) return `${p}: not a temp name the engine makes`;
  let info;
  try {
    info = await lstat(p);
  } catch {
    return undefined; // already gone
  }
  if (typeof process.getuid === 'function' && info.uid !== process.getuid()) return `${p}: owned by another user`;
  if (info.isFile()) {
    await unlink(p);
    return undefined;
  }
  if (!info.isDirectory()) return `${p}: not a file or folder`;
  const entries = await readdir(p, { withFileTypes: true });
  const frames = entries.filter((e) => e.isFile() && PNG_FRAME.test(e.name));
  await Promise.all(frames.map((e) => unlink(path.join(p, e.name)).catch(() => undefined)));
  if (frames.length !== entries.length) return `${p}: holds files the engine did not make`;
  await rmdir(p).catch(() => undefined);
  return undefined;
}

/** removeEngineTemp for each path; the messages of what was left. */
export async function removeEngineTemps(paths: readonly string[]): Promise<string[]> {
  const left = await Promise.all(paths.map((p) => removeEngineTemp(p)));
  return left.filter((m): m is string => m !== undefined);
}
