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
  /** Not running, and no installed `cleanplate` command to start it with. */
  | { readonly state: 'not_installed'; readonly reason: string; readonly configPath: string }
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
  return engineAt(
    { url: `http://127.0.0.1:${config.port}`, token: config.token },
    `The CleanPlate engine does not answer on port ${config.port} (it stopped without cleaning up, or is starting).`,
    configPath,
  );
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

/**
 * The installed engine command (`npm install -g` puts `cleanplate` in npm's bin folder): on PATH,
 * or in npm's usual global folders, which a panel started from the Dock/Start menu may not have
 * on its PATH.
 */
export function installedEngineCommand(node: CepNode): string | undefined {
  const { platform, env } = node.process;
  const home = node.require('os').homedir();
  const win = platform === 'win32';
  const dirs = [
    ...(env.PATH ?? env.Path ?? '').split(win ? ';' : ':').filter(Boolean),
    ...(win ? [join(platform, env.APPDATA ?? join(platform, home, 'AppData', 'Roaming'), 'npm')] : ['/usr/local/bin', '/opt/homebrew/bin', join(platform, home, '.npm-global', 'bin')]),
  ];
  const names = win ? ['cleanplate.cmd', 'cleanplate.exe'] : ['cleanplate'];
  const fs = node.require('fs');
  for (const dir of dirs) for (const name of names) if (fs.existsSync(join(platform, dir, name))) return join(platform, dir, name);
  return undefined;
}

/** When this panel last started the engine (once per minute at most: a failing engine is not restarted in a loop). */
let startedAt = 0;
const START_WAIT_MS = 30_000;

/**
 * The CEP panel: engine.json found and read through CEP's Node. When no engine runs and one is
 * installed, the panel starts it (`cleanplate engine`, detached: it outlives the panel) and waits
 * for it to answer; with none installed the state says how to install it.
 */
export async function locateEngine(node: CepNode | undefined, now: () => number = Date.now): Promise<EngineLookup> {
  if (!node) return { state: 'no_access', reason: "Node.js is not enabled for this panel (its manifest needs --enable-nodejs), so it cannot read the engine's address." };
  const configPath = engineConfigPath({ platform: node.process.platform, env: node.process.env, homedir: node.require('os').homedir() });
  const read = (file: string): Promise<string> => readText(node, file);
  const found = await engineFromConfig(configPath, read);
  if (found.state !== 'not_running') return found;
  const command = installedEngineCommand(node);
  if (!command) {
    return {
      state: 'not_installed',
      reason:
        'The CleanPlate engine is not running. It is not installed as an application either: install it once with "npm install -g cleanplate-<version>.tgz" (docs/premiere.md) and the panel starts it itself, or run "npm start" in a CleanPlate folder.',
      configPath,
    };
  }
  if (now() - startedAt < 60_000) return found;
  startedAt = now();
  const child = node.require('child_process').spawn(command, ['engine'], { detached: true, stdio: 'ignore', windowsHide: true, shell: node.process.platform === 'win32', env: node.process.env });
  child.on('error', () => undefined); // reported below as "did not start"
  child.unref();
  for (const started = now(); now() - started < START_WAIT_MS;) {
    await new Promise((r) => setTimeout(r, 500));
    const again = await engineFromConfig(configPath, read);
    if (again.state === 'connected') return again;
  }
  return { state: 'not_running', reason: `The panel started the installed engine (${command} engine), but it did not answer within ${START_WAIT_MS / 1000} s.`, configPath };
}
