// Finding the engine: its config file (port + token, written at every start) in the per-user
// config folder, with the same rules as the engine's own (src/engine/config.ts; a test keeps the
// two in step), read through CEP's Node or UXP's fs. Then one health request says whether it answers.
import type { EngineConfigFile, Health } from '../../../src/shared/api.js';
import { getHealth, type EngineEndpoint } from '../../../src/shared/engine-client.js';
import type { CepNode } from './cep-types.js';

export interface PlatformInfo {
  readonly platform: string;
  readonly env: Record<string, string | undefined>;
  readonly homedir: string;
}

function join(platform: string, ...parts: string[]): string {
  const sep = platform === 'win32' ? '\\' : '/';
  return parts.map((p, i) => (i === 0 ? p.replace(/[\\/]+$/, '') : p.replace(/^[\\/]+|[\\/]+$/g, ''))).join(sep);
}

/** Where the engine writes engine.json on this platform. */
export function engineConfigPath({ platform, env, homedir }: PlatformInfo): string {
  let dir: string;
  if (env.CLEANPLATE_CONFIG_DIR) dir = env.CLEANPLATE_CONFIG_DIR;
  else if (platform === 'win32') dir = join(platform, env.APPDATA ?? join(platform, homedir, 'AppData', 'Roaming'), 'cleanplate');
  else if (platform === 'darwin') dir = join(platform, homedir, 'Library', 'Application Support', 'cleanplate');
  else dir = join(platform, env.XDG_CONFIG_HOME || join(platform, homedir, '.config'), 'cleanplate');
  return join(platform, dir, 'engine.json');
}

export type EngineLookup =
  | { readonly state: 'connected'; readonly endpoint: EngineEndpoint; readonly health: Health }
  | { readonly state: 'not_running'; readonly reason: string; readonly configPath: string }
  /** The panel cannot read files where engine.json is (CEP without Node, UXP without the permission). */
  | { readonly state: 'no_access'; readonly reason: string };

function readText(node: CepNode, file: string): Promise<string> {
  return new Promise((resolve, reject) => node.require('fs').readFile(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
}

/**
 * engine.json read with `read` (CEP's Node, UXP's fs), then one health request (3 s timeout).
 * The token is only ever sent to the loopback port the file names.
 */
export async function engineFromConfig(configPath: string, read: (file: string) => Promise<string>): Promise<EngineLookup> {
  let config: EngineConfigFile;
  try {
    config = JSON.parse(await read(configPath)) as EngineConfigFile;
  } catch {
    return { state: 'not_running', reason: 'The CleanPlate engine is not running.', configPath };
  }
  if (!Number.isInteger(config.port) || config.port <= 0 || config.port > 65535 || typeof config.token !== 'string') {
    return { state: 'not_running', reason: `The engine's config file ${configPath} is not one the engine wrote: start the engine again.`, configPath };
  }
  return engineAt({ url: `http://127.0.0.1:${config.port}`, token: config.token }, `The CleanPlate engine does not answer on port ${config.port} (it stopped without cleaning up, or is starting).`, configPath);
}

/** One health request (3 s timeout, needs the credential): connected, or not running with `reason`. */
export async function engineAt(endpoint: EngineEndpoint, reason: string, configPath: string): Promise<EngineLookup> {
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

/** The CEP panel: engine.json found and read through CEP's Node. */
export function locateEngine(node: CepNode | undefined): Promise<EngineLookup> {
  if (!node) return Promise.resolve({ state: 'no_access', reason: 'Node.js is not enabled for this panel (its manifest needs --enable-nodejs), so it cannot read the engine\'s address.' });
  const configPath = engineConfigPath({ platform: node.process.platform, env: node.process.env, homedir: node.require('os').homedir() });
  return engineFromConfig(configPath, (file) => readText(node, file));
}
