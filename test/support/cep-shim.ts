// A CEP bridge shim for the built Premiere panel in headless Chromium: stands in for what
// Premiere's CEP runtime gives the page. `window.__adobe_cep__.evalScript` runs the script in the
// ES3 host context (premiere-host.ts, the real host.jsx against the FAKE Premiere DOM) in Node;
// CSXS events the host dispatches reach the page's listeners; `cep_node` answers fs.readFile,
// os.homedir and process.platform/env from Node (so the panel finds engine.json as in CEP);
// `cep.fs.showOpenDialogEx` returns the path a test queued with `nextOpenDialog`.
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { Es3Host } from './premiere-host.js';
import { messageOf } from '../../src/shared/error-message.js';

export interface ShimOptions {
  readonly host: Es3Host;
  /** process.env the panel sees (e.g. CLEANPLATE_CONFIG_DIR of a test engine). */
  readonly env: Record<string, string>;
  readonly homedir: string;
  readonly platform?: string;
}

interface PageShim {
  env: Record<string, string>;
  homedir: string;
  platform: string;
}

/** Runs in the page before its scripts (serialized by Playwright: no closures over Node values). */
function installShim(o: PageShim): void {
  type Listener = (event: { type: string; data: unknown }) => void;
  const w = globalThis as unknown as Record<string, unknown> & {
    __cepEval(script: string): Promise<string>;
    __cepReadFile(path: string): Promise<{ text?: string; error?: string }>;
  };
  const listeners: Record<string, Listener[]> = {};
  let nextDialog: string[] = [];
  w.__adobe_cep__ = {
    evalScript(script: string, callback?: (result: string) => void) {
      void w.__cepEval(script).then((r) => callback?.(r));
    },
    addEventListener(type: string, listener: Listener) {
      (listeners[type] ??= []).push(listener);
    },
    removeEventListener(type: string, listener: Listener) {
      listeners[type] = (listeners[type] ?? []).filter((l) => l !== listener);
    },
  };
  w.__cepDeliver = (type: string, data: string) => {
    for (const l of listeners[type] ?? []) l({ type, data });
  };
  w.__cepNextOpenDialog = (paths: string[]) => {
    nextDialog = paths;
  };
  w.cep_node = {
    process: { platform: o.platform, env: o.env },
    require(id: string) {
      if (id === 'fs') {
        return {
          readFile(path: string, _enc: string, cb: (err: Error | null, text: string) => void) {
            void w.__cepReadFile(path).then((r) => (r.error !== undefined ? cb(new Error(r.error), '') : cb(null, r.text!)));
          },
          // The panel looks for an installed engine command: none in this test world (the
          // locator's start path is tested against real processes in premiere-engine-start.test.ts).
          existsSync: () => false,
        };
      }
      if (id === 'os') return { homedir: () => o.homedir };
      throw new Error(`cep_node shim: no module ${id}`);
    },
  };
  w.cep = {
    fs: {
      showOpenDialogEx() {
        const data = nextDialog;
        nextDialog = [];
        return { err: 0, data };
      },
    },
  };
}

/** Wires the page to the host and Node, then opens the built panel from file:// as CEP does. */
export async function openPanel(page: Page, indexHtml: string, o: ShimOptions): Promise<void> {
  await page.exposeFunction('__cepEval', (script: string) => o.host.evalScript(script));
  await page.exposeFunction('__cepReadFile', async (file: string) => {
    try {
      return { text: await readFile(file, 'utf8') };
    } catch (err) {
      return { error: messageOf(err) };
    }
  });
  o.host.onEvent = (event) => {
    void page.evaluate(([type, data]) => (globalThis as unknown as { __cepDeliver(t: string, d: string): void }).__cepDeliver(type, data), [event.type, event.data] as const).catch(() => undefined);
  };
  await page.addInitScript(installShim, { env: o.env, homedir: o.homedir, platform: o.platform ?? process.platform });
  await page.goto(pathToFileURL(indexHtml).href);
}

/** The path the panel's next file dialog returns (a user picking that file). */
export async function queueOpenDialog(page: Page, file: string): Promise<void> {
  await page.evaluate((f) => (globalThis as unknown as { __cepNextOpenDialog(p: string[]): void }).__cepNextOpenDialog([f]), file);
}
