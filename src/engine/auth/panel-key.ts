// The panel key: a persistent bearer credential for panels that cannot read engine.json each time
// (the OBS dock, a UXP plugin). 32 random bytes (hex) in `panel-key` in the engine's config folder,
// mode 0600, created on first use, kept across engine restarts, replaced by `cleanplate panel-key
// --rotate`. The engine and the CLI both go through this module, never through the file directly.
import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync } from 'node:fs';
import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../fs/atomic.js';

export const PANEL_KEY_FILE_NAME = 'panel-key';
const KEY_FORMAT = /^[0-9a-f]{64}$/;

export function panelKeyPath(configDir: string): string {
  return path.join(configDir, PANEL_KEY_FILE_NAME);
}

export function newPanelKey(): string {
  return randomBytes(32).toString('hex');
}

/** The stored key, or undefined when the file is absent or does not hold a well-formed key. */
export function readPanelKey(configDir: string): string | undefined {
  const file = panelKeyPath(configDir);
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch {
    return undefined;
  }
  if (!KEY_FORMAT.test(text)) return undefined;
  // A key others could read protects nothing: tighten it (a user's chmod or a copied file).
  if (process.platform !== 'win32' && (statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  return text;
}

/** The stored key, created (0600, in a 0700 folder) when there is none yet. */
export async function ensurePanelKey(configDir: string): Promise<string> {
  const existing = readPanelKey(configDir);
  if (existing) return existing;
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const key = newPanelKey();
  try {
    // Exclusive create: of two processes starting at once, one key wins and both use it.
    const handle = await open(panelKeyPath(configDir), 'wx', 0o600);
    await handle.writeFile(`${key}\n`);
    await handle.close();
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    const winner = readPanelKey(configDir);
    if (winner) return winner;
    // A malformed file: replace it.
    return rotatePanelKey(configDir);
  }
}

/** Replaces the key; panels holding the old one are refused from then on (running engines too). */
export async function rotatePanelKey(configDir: string): Promise<string> {
  await mkdir(configDir, { recursive: true, mode: 0o700 });
  const key = newPanelKey();
  await writeFileAtomic(panelKeyPath(configDir), `${key}\n`, { mode: 0o600 });
  return key;
}

/** The OBS dock's URL: the key rides in the fragment, which browsers never send to a server. */
export function dockUrl(port: number, key: string): string {
  return `http://127.0.0.1:${port}/obs/#key=${key}`;
}
