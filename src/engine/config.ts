// Where the engine keeps its files and how it is configured: per-OS config and data folders,
// with environment overrides (CLEANPLATE_CONFIG_DIR, CLEANPLATE_DATA_DIR, CLEANPLATE_PORT,
// CLEANPLATE_TOKEN) so tests and users can run isolated engines.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENGINE_PORT, ENGINE_CONFIG_FILE, engineConfigDir } from '../shared/engine-locator.js';

export const DEFAULT_PORT = DEFAULT_ENGINE_PORT;

/** Engine version: package.json's, two levels above src/engine or dist/engine. */
export const ENGINE_VERSION: string = (() => {
  const pkg = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');
  return (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
})();

/** Folder for engine.json, by the rules every client finds it with (src/shared/engine-locator.ts). */
export function configDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  return path.resolve(engineConfigDir({ platform, env, homedir: os.homedir() }));
}

/** Folder for backgrounds, jobs and logs: XDG data on Linux, %LOCALAPPDATA% on Windows. */
export function dataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  if (env.CLEANPLATE_DATA_DIR) return path.resolve(env.CLEANPLATE_DATA_DIR);
  const home = os.homedir();
  if (platform === 'win32') return path.join(env.LOCALAPPDATA ?? path.join(home, 'AppData', 'Local'), 'cleanplate');
  if (platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'cleanplate', 'data');
  return path.join(env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'cleanplate');
}

export function configFilePath(dir: string = configDir()): string {
  return path.join(dir, ENGINE_CONFIG_FILE);
}

/** CLEANPLATE_PORT (0 = any free port), else 7470. Throws on a value that is not a port. */
export function portFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.CLEANPLATE_PORT;
  if (raw === undefined || raw === '') return DEFAULT_PORT;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`CLEANPLATE_PORT must be 0-65535, got "${raw}"`);
  return port;
}

/** A fresh bearer token per start (32 random bytes, hex); CLEANPLATE_TOKEN fixes it for tests. */
export function tokenFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  const fixed = env.CLEANPLATE_TOKEN;
  if (fixed !== undefined && fixed !== '') {
    if (fixed.length < 16 || /\s/.test(fixed)) throw new Error('CLEANPLATE_TOKEN must be at least 16 characters without spaces');
    return fixed;
  }
  return randomBytes(32).toString('hex');
}
