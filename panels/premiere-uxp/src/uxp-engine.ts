// Finding the engine from inside UXP, where there is no Node and no environment:
//  1. engine.json (port and per-start token, 0600, rewritten at every engine start) read from the
//     per-user config folder with UXP's fs, which needs the manifest's localFileSystem
//     "fullAccess";
//  2. when that file is not where UXP can look (CLEANPLATE_CONFIG_DIR, a moved %APPDATA%), the
//     panel key the user pasted once (`cleanplate panel-key`, or the dock URL of
//     `cleanplate obs dock-url`, which carries the port too), kept in UXP secureStorage.
// No credential ever comes from the network: no engine route hands one out.
import type { EngineLookup } from '../../premiere/src/engine-locator.js';
import { DEFAULT_ENGINE_PORT, engineAt, engineConfigPath, engineFromConfig } from '../../../src/shared/engine-locator.js';
import { Utf8Decoder } from '../../../src/shared/utf8.js';
import type { UxpModules } from './uxp-modules.js';
import { messageOf } from '../../../src/shared/error-message.js';

const SECURE_KEY = 'cleanplate.engine-credential';

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

export interface PastedCredential {
  readonly port: number;
  readonly key: string;
}

/** The panel key (64 hex digits) alone, or the dock URL `http://127.0.0.1:PORT/obs/#key=KEY`. */
export function parseCredential(text: string): PastedCredential {
  const t = text.trim();
  if (/^[0-9a-f]{64}$/i.test(t)) return { port: DEFAULT_ENGINE_PORT, key: t.toLowerCase() };
  const m = /^http:\/\/(?:127\.0\.0\.1|localhost):(\d{1,5})\/obs\/?#(?:.*&)?key=([0-9a-f]{64})(?:&|$)/i.exec(t);
  const port = m ? Number(m[1]) : 0;
  if (!m || port < 1 || port > 65535) {
    throw new Error('That is not a panel key: paste what `cleanplate panel-key` prints (64 hex digits) or the URL `cleanplate obs dock-url` prints.');
  }
  return { port, key: m[2]!.toLowerCase() };
}

async function savedCredential(mods: Pick<UxpModules, 'uxp'>): Promise<PastedCredential | null> {
  try {
    const bytes = await mods.uxp.storage.secureStorage.getItem(SECURE_KEY);
    if (!bytes || bytes.length === 0) return null;
    return parseCredential(new Utf8Decoder().decode(bytes));
  } catch {
    return null; // nothing stored (secureStorage rejects unknown keys)
  }
}

export async function saveCredential(mods: Pick<UxpModules, 'uxp'>, text: string): Promise<void> {
  const c = parseCredential(text);
  await mods.uxp.storage.secureStorage.setItem(SECURE_KEY, `http://127.0.0.1:${c.port}/obs/#key=${c.key}`);
}

export async function locateEngineUxp(mods: Pick<UxpModules, 'os' | 'fs' | 'uxp'>): Promise<EngineLookup> {
  let configPath: string;
  try {
    configPath = uxpEngineConfigPath(mods);
  } catch (err) {
    return { state: 'no_access', reason: `The plugin cannot see your home folder (${messageOf(err)}).` };
  }
  const fromFile = await engineFromConfig(configPath, (file) => mods.fs.readFile(fileUrl(file), { encoding: 'utf-8' }));
  if (fromFile.state === 'connected') return fromFile;
  const saved = await savedCredential(mods);
  if (!saved) return fromFile;
  return engineAt(
    { url: `http://127.0.0.1:${saved.port}`, token: saved.key },
    `The CleanPlate engine is not running, or does not take the saved panel key on port ${saved.port} (after \`cleanplate panel-key --rotate\`, paste the new one).`,
    configPath,
  );
}
