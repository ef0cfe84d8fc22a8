// `cleanplate panel-key [--rotate] [--dock-url]`: the panel key (auth/panel-key.ts), the bearer
// credential panels keep across engine restarts (the OBS dock, a UXP plugin). Prints it to stdout
// only, for the user to paste; --rotate replaces it, so every panel holding the old one is refused.
import { readFile } from 'node:fs/promises';
import { parseEngineConfig } from '../../shared/engine-locator.js';
import { dockUrl, ensurePanelKey, panelKeyPath, rotatePanelKey } from '../../engine/auth/panel-key.js';
import { configDir, configFilePath, portFromEnv } from '../../engine/config.js';
import { EXIT_OK, parseCommandLine, type Command } from '../command.js';

const HELP = `usage: cleanplate panel-key [--rotate] [--dock-url]

Prints the panel key: the credential the OBS dock and other panels use with the engine. It is
kept (mode 0600) in the engine's config folder and survives engine restarts.

options:
  --rotate     make a new key; panels holding the old one are refused from now on
  --dock-url   print the OBS dock URL with the key instead (same as "cleanplate obs dock-url")

Treat the key like a password: anyone holding it can use the engine as you.`;

/** The running engine's port from engine.json, else $CLEANPLATE_PORT or the default. */
async function enginePort(): Promise<number> {
  const config = parseEngineConfig(await readFile(configFilePath(), 'utf8').catch(() => ''));
  return config?.port ?? portFromEnv();
}

/** The dock URL with the current key (created when there is none). */
export async function currentDockUrl(): Promise<string> {
  return dockUrl(await enginePort(), await ensurePanelKey(configDir()));
}

export const panelKeyCommand: Command = {
  summary: 'print (or --rotate) the panel key the OBS dock and other panels use',
  help: () => HELP,
  async run(args) {
    const values = parseCommandLine({ args, strict: true, options: { help: { type: 'boolean', short: 'h' }, rotate: { type: 'boolean' }, 'dock-url': { type: 'boolean' } } }).values;
    if (values.help) {
      process.stdout.write(`${HELP}\n`);
      return EXIT_OK;
    }
    const dir = configDir();
    const key = values.rotate ? await rotatePanelKey(dir) : await ensurePanelKey(dir);
    if (values.rotate) process.stderr.write(`new panel key in ${panelKeyPath(dir)}: update the dock URL in OBS (and other panels)\n`);
    process.stdout.write(`${values['dock-url'] ? dockUrl(await enginePort(), key) : key}\n`);
    return EXIT_OK;
  },
};
