// The CEP panel's way to the engine: engine.json found and read through CEP's Node with the
// shared rules (src/shared/engine-locator.ts), and when no engine runs, the installed `cleanplate`
// command started (detached) and waited for.
import { engineConfigPath, engineFromConfig, platformJoin as join, type EngineFound } from '../../../src/shared/engine-locator.js';
import type { CepNode } from './cep-types.js';

export type EngineLookup =
  | EngineFound
  /** Not running, and no installed `cleanplate` command to start it with. */
  | { readonly state: 'not_installed'; readonly reason: string; readonly configPath: string }
  /** The panel cannot read files where engine.json is (CEP without Node, UXP without the permission). */
  | { readonly state: 'no_access'; readonly reason: string };

function readText(node: CepNode, file: string): Promise<string> {
  return new Promise((resolve, reject) => node.require('fs').readFile(file, 'utf8', (err, text) => (err ? reject(err) : resolve(text))));
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
