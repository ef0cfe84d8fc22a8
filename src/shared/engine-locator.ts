// Finding the running engine, for every client (CLI, OBS controller, Premiere panels) and the
// engine itself (where it writes engine.json): the per-user config folder's rules, engine.json
// read and checked, then one health request (with the credential) that says whether it answers.
// Runs in Node and in the panels: the caller passes the platform facts and a way to read a file.
import * as v from 'valibot';
import { EngineAddressSchema, type Health } from './api.js';
import { getHealth, type EngineEndpoint } from './engine-client.js';

/** The engine's port unless CLEANPLATE_PORT says otherwise. */
export const DEFAULT_ENGINE_PORT = 7470;
export const ENGINE_CONFIG_FILE = 'engine.json';

export interface PlatformInfo {
  /** Node's process.platform names ("linux", "darwin", "win32"). */
  readonly platform: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly homedir: string;
}

/** Joins path parts with the separator of `platform` (a panel may run where Node's path is absent). */
export function platformJoin(platform: string, ...parts: string[]): string {
  const sep = platform === 'win32' ? '\\' : '/';
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, ''))).join(sep);
}

/** The folder of engine.json: CLEANPLATE_CONFIG_DIR, else XDG config on Linux, %APPDATA% on Windows, Application Support on macOS. */
export function engineConfigDir({ platform, env, homedir }: PlatformInfo): string {
  if (env.CLEANPLATE_CONFIG_DIR) return env.CLEANPLATE_CONFIG_DIR;
  if (platform === 'win32') return platformJoin(platform, env.APPDATA ?? platformJoin(platform, homedir, 'AppData', 'Roaming'), 'cleanplate');
  if (platform === 'darwin') return platformJoin(platform, homedir, 'Library', 'Application Support', 'cleanplate');
  return platformJoin(platform, env.XDG_CONFIG_HOME || platformJoin(platform, homedir, '.config'), 'cleanplate');
}

/** Where the engine writes engine.json on this platform. */
export function engineConfigPath(info: PlatformInfo): string {
  return platformJoin(info.platform, engineConfigDir(info), ENGINE_CONFIG_FILE);
}

/** The port and token of engine.json's text when it is a file the engine wrote, else undefined. */
export function parseEngineConfig(text: string): v.InferOutput<typeof EngineAddressSchema> | undefined {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    return undefined;
  }
  const checked = v.safeParse(EngineAddressSchema, raw);
  return checked.success ? checked.output : undefined;
}

export type EngineFound =
  { readonly state: 'connected'; readonly endpoint: EngineEndpoint; readonly health: Health } | { readonly state: 'not_running'; readonly reason: string; readonly configPath: string };

/**
 * engine.json read with `read` (Node's fs, CEP's Node, UXP's fs), then one health request (3 s
 * timeout). The token is only ever sent to the loopback port the file names.
 */
export async function engineFromConfig(configPath: string, read: (file: string) => Promise<string>): Promise<EngineFound> {
  let text: string;
  try {
    text = await read(configPath);
    JSON.parse(text);
  } catch {
    // No file, or one caught half-written: no engine to talk to now.
    return { state: 'not_running', reason: 'The CleanPlate engine is not running.', configPath };
  }
  const config = parseEngineConfig(text);
  if (!config) return { state: 'not_running', reason: `The engine's config file ${configPath} is not one the engine wrote: start the engine again.`, configPath };
  return engineAt(
    { url: `http://127.0.0.1:${config.port}`, token: config.token },
    `The CleanPlate engine does not answer on port ${config.port} (it stopped without cleaning up, or is starting).`,
    configPath,
  );
}

/** One health request (3 s timeout, needs the credential): connected, or not running with `reason`. */
export async function engineAt(endpoint: EngineEndpoint, reason: string, configPath: string): Promise<EngineFound> {
  // (AbortSignal.timeout is newer than CEP 11's Chromium 88.)
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), 3000);
  try {
    const health = await getHealth(endpoint, abort.signal);
    return { state: 'connected', endpoint, health };
  } catch {
    return { state: 'not_running', reason, configPath };
  } finally {
    clearTimeout(timer);
  }
}
