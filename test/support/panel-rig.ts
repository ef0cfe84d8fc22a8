// What the Premiere panels' end-to-end tests (CEP and UXP) start with: headless Chromium, a temp
// folder, a test engine and the folder their screenshots go to. Each panel opens in a fresh
// browser context at the panel's size; close() ends them all, the browser and the engine.
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import type { EngineOptions } from '../../src/engine/server.js';
import { chromiumAvailable, launchChromium } from './chromium.js';
import { startTestEngine, type TestEngine } from './engine.js';

export interface PanelRig {
  readonly dir: string;
  readonly engine: TestEngine;
  /** A page in a fresh browser context, 340x760 like a docked panel. */
  newPage(): Promise<Page>;
  /** A full-page screenshot into the artifacts folder as `<name>.png`. */
  shot(page: Page, name: string): Promise<Buffer>;
  close(): Promise<void>;
}

export async function startPanelRig(o: { prefix: string; artifacts: string; engine?: (dir: string) => Partial<EngineOptions> }): Promise<PanelRig> {
  if (!chromiumAvailable()) throw new Error('these tests need Debian chromium (".ci/run" installs it)');
  await mkdir(o.artifacts, { recursive: true });
  const dir = await mkdtemp(path.join(os.tmpdir(), o.prefix));
  const contexts: BrowserContext[] = [];
  let engine: TestEngine | undefined;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  const close = async (): Promise<void> => {
    for (const c of contexts) await c.close().catch(() => undefined);
    await browser?.close();
    await engine?.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    engine = await startTestEngine(o.engine?.(dir));
    browser = await launchChromium();
  } catch (err) {
    await close();
    throw err;
  }
  const b = browser;
  return {
    dir,
    engine,
    newPage: async () => {
      const context = await b.newContext({ viewport: { width: 340, height: 760 } });
      contexts.push(context);
      return context.newPage();
    },
    shot: (page, name) => page.screenshot({ path: path.join(o.artifacts, `${name}.png`), fullPage: true }),
    close,
  };
}
