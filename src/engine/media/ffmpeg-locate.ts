// Which ffmpeg/ffprobe the engine runs: FFMPEG_PATH/FFPROBE_PATH when set, else the first on
// PATH, else the binaries shipped in the optional npm packages @ffmpeg-installer/ffmpeg and
// @ffprobe-installer/ffprobe (they install offline but are old builds, so a system ffmpeg wins).
// /v1/health reports the choice, so "why is this slow / why does this codec fail" is answerable.
import { execFile } from 'node:child_process';
import { accessSync, chmodSync, constants, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

export type ToolName = 'ffmpeg' | 'ffprobe';
export type ToolSource = 'env' | 'system' | 'npm-package';

export interface LocatedTool {
  readonly path: string;
  /** First line of `-version`, e.g. "5.1.9-0+deb12u1". */
  readonly version: string;
  readonly source: ToolSource;
}

export interface MediaTools {
  readonly ffmpeg: LocatedTool;
  readonly ffprobe: LocatedTool;
}

/** No usable ffmpeg/ffprobe: the message says what was tried and how to fix it. */
export class ToolNotFoundError extends Error {
  readonly code = 'ffmpeg_missing';
  constructor(message: string) {
    super(message);
    this.name = 'ToolNotFoundError';
  }
}

const ENV_VAR: Record<ToolName, string> = { ffmpeg: 'FFMPEG_PATH', ffprobe: 'FFPROBE_PATH' };
const NPM_PACKAGE: Record<ToolName, string> = { ffmpeg: '@ffmpeg-installer/ffmpeg', ffprobe: '@ffprobe-installer/ffprobe' };

function isExecutableFile(file: string): boolean {
  try {
    if (!statSync(file).isFile()) return false;
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** The tool on PATH, as a shell would find it (PATHEXT-style .exe on Windows). */
export function findOnPath(name: string, env: NodeJS.ProcessEnv = process.env, platform = process.platform): string | undefined {
  const dirs = (env.PATH ?? env.Path ?? '').split(path.delimiter).filter(Boolean);
  const names = platform === 'win32' ? [`${name}.exe`, name] : [name];
  for (const dir of dirs) {
    for (const n of names) {
      const candidate = path.join(dir, n);
      if (isExecutableFile(candidate)) return candidate;
    }
  }
  return undefined;
}

/**
 * The binary inside the npm package, or undefined when the package (or its per-platform
 * binary package) is not installed. npm may skip the packages' `chmod u+x` postinstall (script
 * allow-lists), so a binary that lacks the execute bit gets it here when we own the file.
 */
function fromNpmPackage(tool: ToolName): string | undefined {
  let binary: string;
  try {
    const require = createRequire(import.meta.url);
    binary = (require(NPM_PACKAGE[tool]) as { path: string }).path;
  } catch {
    return undefined;
  }
  if (!isExecutableFile(binary)) {
    try {
      chmodSync(binary, statSync(binary).mode | 0o100);
    } catch {
      return undefined;
    }
  }
  return isExecutableFile(binary) ? binary : undefined;
}

async function versionOf(file: string): Promise<string> {
  const { stdout } = await execFileAsync(file, ['-hide_banner', '-version'], { timeout: 15_000 });
  const first = stdout.split('\n')[0] ?? '';
  const m = /version\s+(\S+)/.exec(first);
  if (!m?.[1]) throw new Error(`unexpected "-version" output from ${file}: ${first.slice(0, 120)}`);
  return m[1];
}

/** Finds one tool: env override (must work, no silent fallback), then PATH, then the npm package. */
export async function locateTool(tool: ToolName, env: NodeJS.ProcessEnv = process.env, options: { npmFallback?: boolean } = {}): Promise<LocatedTool> {
  const override = env[ENV_VAR[tool]];
  if (override) {
    if (!isExecutableFile(override)) {
      throw new ToolNotFoundError(`${ENV_VAR[tool]} is set to "${override}", which is not an executable file`);
    }
    return { path: override, version: await versionOf(override), source: 'env' };
  }
  const onPath = findOnPath(tool, env);
  if (onPath) return { path: onPath, version: await versionOf(onPath), source: 'system' };
  const shipped = options.npmFallback === false ? undefined : fromNpmPackage(tool);
  if (shipped) return { path: shipped, version: await versionOf(shipped), source: 'npm-package' };
  throw new ToolNotFoundError(
    `${tool} not found: install ffmpeg (e.g. "apt install ffmpeg", "brew install ffmpeg", or ffmpeg.org builds on Windows), ` +
      `set ${ENV_VAR[tool]} to its path, or run "npm install" so the optional package ${NPM_PACKAGE[tool]} is present`,
  );
}

export async function locateMediaTools(env: NodeJS.ProcessEnv = process.env): Promise<MediaTools> {
  const [ffmpeg, ffprobe] = await Promise.all([locateTool('ffmpeg', env), locateTool('ffprobe', env)]);
  return { ffmpeg, ffprobe };
}

let cached: Promise<MediaTools> | undefined;

/** The engine's tools, located once per process (a failed lookup is retried on the next call). */
export function mediaTools(): Promise<MediaTools> {
  if (!cached) {
    cached = locateMediaTools();
    cached.catch(() => {
      cached = undefined;
    });
  }
  return cached;
}
