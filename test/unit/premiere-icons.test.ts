// The Premiere extension's icons and .debug file, as the build writes them: every icon the
// manifest names exists at 23 px and @2x, drawn in its variant's colour; .debug names the panel
// and a port, and packages leave it out.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBUG_PORT, ICON_VARIANTS, PANEL_DIR, writeDebugFile, writeIcons } from '../../scripts/premiere-build.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-icons-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Premiere extension icons and .debug', () => {
  it('writes every icon the manifest names, 23 px and 46 px, in the variant colour', async () => {
    const written = await writeIcons(dir);
    const manifest = await readFile(path.join(PANEL_DIR, 'CSXS', 'manifest.xml'), 'utf8');
    const named = [...manifest.matchAll(/<Icon Type="(\w+)">\.\/(icons\/\w+\.png)<\/Icon>/g)];
    expect(named.map((m) => m[1]).sort()).toEqual(Object.keys(ICON_VARIANTS).sort());
    for (const [, variant, file] of named) {
      expect(written).toContain(file);
      expect(written).toContain(file!.replace('.png', '@2x.png'));
      const { data, info } = await sharp(path.join(dir, file!)).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
      expect([info.width, info.height]).toEqual([23, 23]);
      expect((await sharp(path.join(dir, file!.replace('.png', '@2x.png'))).metadata()).width).toBe(46);
      // Some pixels opaque and of the variant's colour; the corners transparent.
      const want = ICON_VARIANTS[variant as keyof typeof ICON_VARIANTS].match(/\w\w/g)!.map((h) => parseInt(h, 16));
      let inColour = 0;
      for (let i = 0; i < data.length; i += 4) if (data[i + 3]! > 200 && want.every((v, c) => Math.abs(data[i + c]! - v) < 30)) inColour++;
      expect(inColour).toBeGreaterThan(40);
      expect(data[3]).toBe(0);
    }
  });

  it('writes a .debug file for CEF remote debugging of the panel in Premiere', async () => {
    await writeDebugFile(dir);
    const xml = await readFile(path.join(dir, '.debug'), 'utf8');
    const manifest = await readFile(path.join(PANEL_DIR, 'CSXS', 'manifest.xml'), 'utf8');
    const id = /<Extension Id="([^"]+)">/.exec(manifest)![1];
    expect(xml).toContain(`<Extension Id="${id}">`);
    expect(xml).toContain(`<Host Name="PPRO" Port="${DEBUG_PORT}"/>`);
  });
});
