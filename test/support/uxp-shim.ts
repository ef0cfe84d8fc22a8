// A UXP runtime shim for the built UXP plugin in headless Chromium: what Premiere's UXP gives the
// plugin's page. `require('premierepro')` is the FAKE premierepro module (premierepro-fake.ts,
// bundled into the page with its project model), `require('fs')` reads files from Node through
// an exposed function (only UXP's file:/ URLs), `require('os')` says the platform and home
// folder given, `require('uxp').storage.localFileSystem.getFileForOpening` returns what the test
// queued. TextDecoder is removed: UXP has none. The test drives the project through
// `window.__uxp` (page.evaluate).
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { probeMedia } from './premierepro-probe.js';
import { messageOf } from '../../src/shared/error-message.js';

const PAGE_ENTRY = path.join(path.dirname(new URL(import.meta.url).pathname), 'uxp-shim-page.ts');

let bundled: Promise<string> | undefined;

/** The fake module and its model as one classic script for the page. */
function pageScript(): Promise<string> {
  bundled ??= build({ entryPoints: [PAGE_ENTRY], bundle: true, format: 'iife', platform: 'browser', target: 'es2020', write: false, logLevel: 'silent' }).then((r) => r.outputFiles[0]!.text);
  return bundled;
}

export interface UxpShimOptions {
  readonly platform: string;
  readonly homedir: string;
}

/** Wires the page to Node, installs the shim, then opens the built plugin's index.html. */
export async function openUxpPanel(page: Page, indexHtml: string, o: UxpShimOptions): Promise<void> {
  await page.exposeFunction('__uxpProbe', (file: string) => probeMedia(file));
  await page.exposeFunction('__uxpReadFile', async (url: string) => {
    // UXP's fs takes file:/ URLs for paths outside the plugin ("file:/Users/..", "file:/C:/..").
    if (!url.startsWith('file:/')) return { error: `UXP shim: not a file:/ URL: ${url}` };
    try {
      return { text: await readFile(url.slice('file:'.length), 'utf8') };
    } catch (err) {
      return { error: messageOf(err) };
    }
  });
  await page.addInitScript({ content: `window.__uxpPlatform=${JSON.stringify(o.platform)};window.__uxpHome=${JSON.stringify(o.homedir)};\n${await pageScript()}` });
  await page.goto(pathToFileURL(indexHtml).href);
}
