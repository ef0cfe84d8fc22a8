// How the UXP plugin names engine.json (no environment in UXP: the engine's default folder under
// the home folder, kept equal to the engine's own rule) and the pasted panel key it accepts.
import { describe, expect, it } from 'vitest';
import { fileUrl, nodePlatform, parseCredential, uxpEngineConfigPath } from '../../panels/premiere-uxp/src/uxp-engine.js';
import { configDir, configFilePath, DEFAULT_PORT } from '../../src/engine/config.js';

const os = (platform: string, home: string) => ({ os: { platform: () => platform, homedir: () => home } }) as never;

describe('UXP engine lookup', () => {
  it('engine.json where the engine writes it by default, on macOS and Windows (also when UXP says "win10")', () => {
    expect(uxpEngineConfigPath(os('darwin', '/Users/ed'))).toBe('/Users/ed/Library/Application Support/cleanplate/engine.json');
    expect(uxpEngineConfigPath(os('win10', 'C:\\Users\\ed'))).toBe('C:\\Users\\ed\\AppData\\Roaming\\cleanplate\\engine.json');
    expect(nodePlatform('win32')).toBe('win32');
    const home = process.env.HOME!;
    expect(uxpEngineConfigPath(os('linux', home))).toBe(configFilePath(configDir({}, 'linux')));
  });

  it('file:/ URLs as UXP fs takes them', () => {
    expect(fileUrl('/Users/ed/Library/Application Support/cleanplate/engine.json')).toBe('file:/Users/ed/Library/Application Support/cleanplate/engine.json');
    expect(fileUrl('C:\\Users\\ed\\AppData\\Roaming\\cleanplate\\engine.json')).toBe('file:/C:/Users/ed/AppData/Roaming/cleanplate/engine.json');
  });

  it('a pasted panel key: the bare key (default port) or the dock URL (its port); anything else refused', () => {
    const key = 'ab'.repeat(32);
    expect(parseCredential(` ${key.toUpperCase()}\n`)).toEqual({ port: DEFAULT_PORT, key });
    expect(parseCredential(`http://127.0.0.1:7999/obs/#key=${key}`)).toEqual({ port: 7999, key });
    expect(parseCredential(`http://127.0.0.1:7999/obs/#key=${key}&password=x`)).toEqual({ port: 7999, key });
    for (const bad of ['', key.slice(1), `https://evil.example:7470/obs/#key=${key}`, `http://127.0.0.1:0/obs/#key=${key}`, `http://127.0.0.1:7470/obs/?key=${key}`]) {
      expect(() => parseCredential(bad), bad).toThrow(/not a panel key/);
    }
  });
});
