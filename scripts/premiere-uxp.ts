// The Premiere UXP plugin (panels/premiere-uxp), built with Vite and vite-uxp-plugin:
//   npm run build:premiere-uxp      panels/premiere-uxp/dist (manifest.json, index.html, index.js)
//   npm run package:premiere-uxp    + dist/premiere-uxp/cleanplate-premiere-uxp-<version>.ccx
//   npm run dev:premiere-uxp        rebuild on change + hot reload; load dist/manifest.json in UDT
//   npm run install:premiere-uxp    install the .ccx with Adobe's UPIA (-- --uninstall removes it)
import { spawn } from 'node:child_process';
import { copyFile, mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageVersion, REPO } from './premiere-build.js';

export const UXP_DIR = path.join(REPO, 'panels', 'premiere-uxp');
export const UXP_DIST = path.join(UXP_DIR, 'dist');
export const UXP_PACKAGE_DIR = path.join(REPO, 'dist', 'premiere-uxp');

type Mode = 'build' | 'dev' | 'package';

/** Vite in the plugin's folder (vite-uxp-plugin writes dist/ and ccx/ relative to the working folder). */
function vite(mode: Mode, extra: string[] = []): Promise<void> {
  const bin = path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, 'build', '--logLevel', 'warn', ...extra], {
      cwd: UXP_DIR,
      env: { ...process.env, CLEANPLATE_UXP_MODE: mode },
      stdio: ['ignore', mode === 'dev' ? 'inherit' : 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr!.on('data', (c: Buffer) => {
      err += c.toString();
      if (mode === 'dev') process.stderr.write(c);
    });
    child.stdout?.resume();
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`vite build (${mode}) failed:\n${err.slice(-2000)}`))));
  });
}

export async function buildPremiereUxp(): Promise<string> {
  await vite('build');
  return UXP_DIST;
}

/** Builds and zips the plugin as a .ccx (unsigned: Adobe signs what goes through its distribution). */
export async function packagePremiereUxp(): Promise<string> {
  await vite('package');
  const ccxDir = path.join(UXP_DIR, 'ccx');
  const made = (await readdir(ccxDir)).filter((f) => f.endsWith('.ccx'));
  if (made.length !== 1) throw new Error(`expected one .ccx in ${ccxDir}, found ${made.join(', ') || 'none'}`);
  await mkdir(UXP_PACKAGE_DIR, { recursive: true });
  const out = path.join(UXP_PACKAGE_DIR, `cleanplate-premiere-uxp-${await packageVersion()}.ccx`);
  await copyFile(path.join(ccxDir, made[0]!), out);
  return out;
}

const UDT_STEPS = `Load it in Premiere for development:
  1. Premiere Pro 25.6 or later: Settings > Plugins > enable developer mode, restart Premiere.
  2. Open the UXP Developer Tool (Creative Cloud desktop > All apps > UXP Developer Tools).
  3. Add Plugin > choose panels/premiere-uxp/dist/manifest.json; then Load (and Watch).
  4. Window > UXP Plugins > CleanPlate. Start the engine (npm start).`;

async function install(uninstall: boolean): Promise<void> {
  if (process.platform !== 'darwin' && process.platform !== 'win32') {
    console.log(`Premiere Pro does not run on ${process.platform}: nothing installed. Build the .ccx with npm run package:premiere-uxp and install it on macOS or Windows.`);
    return;
  }
  if (!uninstall) await packagePremiereUxp();
  // vite-uxp-plugin's UPIA wrapper: finds Adobe's Unified Plugin Installer Agent and runs it on ccx/*.ccx.
  const { runAction } = await import('vite-uxp-plugin');
  const { uxpConfig } = await import('../panels/premiere-uxp/uxp.config.js');
  process.chdir(UXP_DIR);
  runAction(uxpConfig(await packageVersion(), 'package'), uninstall ? 'ccx-uninstall' : 'ccx-install');
}

async function main(argv: string[]): Promise<void> {
  const [command = 'build', ...rest] = argv;
  switch (command) {
    case 'build':
      console.log(`built the Premiere UXP plugin in ${path.relative(process.cwd(), await buildPremiereUxp()) || '.'}`);
      console.log(UDT_STEPS);
      return;
    case 'package': {
      const ccx = await packagePremiereUxp();
      console.log(`packaged ${path.relative(process.cwd(), ccx)} (unsigned). Install: npm run install:premiere-uxp on the Premiere machine, or double-click the .ccx.`);
      return;
    }
    case 'dev':
      console.log(UDT_STEPS + '\nRebuilding on every change; the loaded panel reloads itself.');
      await vite('dev', ['--watch']);
      return;
    case 'install':
      await install(rest.includes('--uninstall'));
      return;
    default:
      throw new Error(`unknown command "${command}" (build, package, dev, install [--uninstall])`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exitCode = 1;
  });
}
