// npm run package:premiere [-- --out DIR] [--no-build] -- builds the Premiere extension and puts the
// folder a ZXP is signed from in dist/premiere-package/com.cleanplate.premiere, then prints the
// ZXPSignCmd steps (Adobe's signing tool is not available on this machine).
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { buildPremiere, DIST_DIR, EXTENSION_ID, packageVersion, REPO } from './premiere-build.js';

export const PACKAGE_ROOT = path.join(REPO, 'dist', 'premiere-package');
/** What a signed extension must contain. */
const REQUIRED = ['CSXS/manifest.xml', 'index.html', 'host.jsx'];

export async function packageFolder(outRoot = PACKAGE_ROOT, source = DIST_DIR): Promise<string> {
  for (const f of REQUIRED) {
    if (!(await stat(path.join(source, f)).catch(() => undefined))) throw new Error(`${path.join(source, f)} is missing: build first (npm run build:premiere)`);
  }
  const folder = path.join(outRoot, EXTENSION_ID);
  await rm(folder, { recursive: true, force: true });
  await mkdir(outRoot, { recursive: true });
  // Only the extension: no dev-only debug files.
  await cp(source, folder, { recursive: true, filter: (src) => path.basename(src) !== '.debug' });
  return folder;
}

export async function signingSteps(folder: string): Promise<string[]> {
  const zxp = `cleanplate-premiere-${await packageVersion()}.zxp`;
  const files = (await readdir(folder, { recursive: true })).length;
  return [
    `Folder to sign (${files} entries): ${folder}`,
    `Sign it with Adobe's ZXPSignCmd (Adobe-CEP/CEP-Resources on GitHub, folder ZXPSignCMD; not available here):`,
    `  1. once, a certificate:  ZXPSignCmd -selfSignedCert <country code> <state> <organisation> <common name> <password> cleanplate.p12`,
    `     (or use a code-signing certificate you have, as a .p12)`,
    `  2. sign:                 ZXPSignCmd -sign "${folder}" ${zxp} cleanplate.p12 <password> -tsa <timestamp server URL>`,
    `  3. check:                ZXPSignCmd -verify ${zxp}`,
    `Install the .zxp with Adobe's UPIA (UnifiedPluginInstallerAgent --install ${zxp}) or an extension installer; a signed ZXP needs no PlayerDebugMode.`,
  ];
}

export async function main(args: string[], log: (line: string) => void = console.log): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { out: { type: 'string' }, 'no-build': { type: 'boolean' } } });
  if (!values['no-build']) log(`built ${await buildPremiere()}`);
  const folder = await packageFolder(values.out ? path.resolve(values.out) : PACKAGE_ROOT);
  for (const line of await signingSteps(folder)) log(line);
  return 0;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
