// Finding the engine from inside UXP, where there is no Node and no environment: engine.json (port
// and token, 0600, rewritten at every engine start) read from the per-user config folder with UXP's
// fs, which needs the manifest's localFileSystem "fullAccess". The token never comes from the
// network: no engine route hands it out, so a foreign page or another user cannot get it.
import { engineConfigPath, engineFromConfig, type EngineLookup } from '../../premiere/src/engine-locator.js';
import type { UxpModules } from './uxp-modules.js';

/** UXP's os.platform() says "win10" on some Windows builds; the engine's rules know "win32". */
export function nodePlatform(uxpPlatform: string): string {
  return /^win/i.test(uxpPlatform) ? 'win32' : uxpPlatform;
}

/** A native path as UXP's file: URL ("file:/Users/ed/x", "file:/C:/Users/ed/x"). */
export function fileUrl(nativePath: string): string {
  return 'file:/' + nativePath.replace(/\\/g, '/').replace(/^\/+/, '');
}

/**
 * Where engine.json is for the signed-in user. UXP gives no environment, so CLEANPLATE_CONFIG_DIR
 * and a moved %APPDATA% / $XDG_CONFIG_HOME are not seen: the engine's default folder is used.
 */
export function uxpEngineConfigPath(mods: Pick<UxpModules, 'os'>): string {
  return engineConfigPath({ platform: nodePlatform(mods.os.platform()), env: {}, homedir: mods.os.homedir() });
}

export function locateEngineUxp(mods: Pick<UxpModules, 'os' | 'fs'>): Promise<EngineLookup> {
  let configPath: string;
  try {
    configPath = uxpEngineConfigPath(mods);
  } catch (err) {
    return Promise.resolve({ state: 'no_access', reason: `The plugin cannot see your home folder (${err instanceof Error ? err.message : String(err)}).` });
  }
  return engineFromConfig(configPath, (file) => mods.fs.readFile(fileUrl(file), { encoding: 'utf-8' }));
}
