// npm run build:premiere -- builds the Premiere extension into panels/premiere/dist:
//   CSXS/manifest.xml  the CEP manifest (version from package.json)
//   index.html, assets the React panel (Vite, one classic script: CEP loads it from file://)
//   host.jsx           the ExtendScript host: host/src compiled by tsc (ES5 syntax, ES3 library),
//                      bundled by esbuild into one IIFE, then checked to parse as ES3.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parse } from 'acorn';
import { build } from 'esbuild';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PANEL_DIR = path.join(REPO, 'panels', 'premiere');
export const DIST_DIR = path.join(PANEL_DIR, 'dist');
export const EXTENSION_ID = 'com.cleanplate.premiere';

const run = promisify(execFile);

export async function packageVersion(): Promise<string> {
  return (JSON.parse(await readFile(path.join(REPO, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Throws when `code` is not ES3: ES5 syntax (getters, trailing commas, keywords as property names) or defineProperty helpers. */
export function checkEs3(code: string, file = 'host.jsx'): void {
  try {
    parse(code, { ecmaVersion: 3, allowReserved: 'never', sourceType: 'script' });
  } catch (err) {
    throw new Error(`${file} is not ES3: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  // tsc turns accessors into Object.defineProperty calls, which ES3 lacks: the syntax check can't see those.
  if (/Object\.defineProperty|Object\.create\(|Object\.keys\(/.test(code)) throw new Error(`${file} calls ES5 Object functions (an accessor or a class helper in host/src?)`);
}

/** Compiles and bundles the host; returns the ES3 script. */
export async function buildHostScript(): Promise<string> {
  const tmp = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-host-'));
  try {
    const tsc = path.join(REPO, 'node_modules', 'typescript', 'bin', 'tsc');
    try {
      await run(process.execPath, [tsc, '-p', path.join(REPO, 'host', 'tsconfig.json'), '--outDir', tmp], { cwd: REPO });
    } catch (err) {
      const out = (err as { stdout?: string }).stdout ?? '';
      throw new Error(`host/ does not compile:\n${out}`, { cause: err });
    }
    const version = await packageVersion();
    const result = await build({
      entryPoints: [path.join(tmp, 'index.js')],
      absWorkingDir: tmp, // module comments name host/src files, not the temp folder
      bundle: true,
      format: 'iife',
      target: 'es5',
      platform: 'neutral',
      write: false,
      charset: 'ascii', // ExtendScript reads the file in the system code page
      legalComments: 'none',
      define: { __CLEANPLATE_VERSION__: JSON.stringify(version) },
      banner: { js: `// CleanPlate ${version}: Premiere Pro host script (ES3 ExtendScript), built from host/src by scripts/premiere-build.ts.` },
      logLevel: 'silent',
    });
    const code = result.outputFiles[0]!.text;
    checkEs3(code);
    return code;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

export async function writeManifest(outDir: string): Promise<void> {
  const version = await packageVersion();
  const template = await readFile(path.join(PANEL_DIR, 'CSXS', 'manifest.xml'), 'utf8');
  await mkdir(path.join(outDir, 'CSXS'), { recursive: true });
  await writeFile(path.join(outDir, 'CSXS', 'manifest.xml'), template.replaceAll('__VERSION__', version));
}

export async function buildPanel(): Promise<void> {
  const vite = path.join(REPO, 'node_modules', 'vite', 'bin', 'vite.js');
  await run(process.execPath, [vite, 'build', 'panels/premiere', '--logLevel', 'warn'], { cwd: REPO });
}

/** CEP panel icons (23x23 and @2x 46x46), light and dark themes, normal and hover, from icons/icon.svg. */
export const ICON_VARIANTS = { Normal: '#404040', RollOver: '#1473e6', DarkNormal: '#d0d0d0', DarkRollOver: '#ffffff' } as const;

export async function writeIcons(outDir: string): Promise<string[]> {
  const sharp = (await import('sharp')).default;
  const svg = await readFile(path.join(PANEL_DIR, 'icons', 'icon.svg'), 'utf8');
  await mkdir(path.join(outDir, 'icons'), { recursive: true });
  const written: string[] = [];
  for (const [variant, colour] of Object.entries(ICON_VARIANTS)) {
    const source = Buffer.from(svg.replaceAll('FILL', colour));
    for (const [suffix, size] of [
      ['', 23],
      ['@2x', 46],
    ] as const) {
      const file = path.join('icons', `${variant}${suffix}.png`);
      await writeFile(
        path.join(outDir, file),
        await sharp(source, { density: 72 * (size / 46) * 4 })
          .resize(size, size)
          .png()
          .toBuffer(),
      );
      written.push(file);
    }
  }
  return written;
}

/** CEF remote debugging for developers: Chrome at http://localhost:8088 shows the panel's DevTools (PlayerDebugMode needed; left out of packages). */
export const DEBUG_PORT = 8088;

export async function writeDebugFile(outDir: string): Promise<void> {
  await writeFile(
    path.join(outDir, '.debug'),
    `<?xml version="1.0" encoding="UTF-8"?>
<ExtensionList>
  <Extension Id="${EXTENSION_ID}.panel">
    <HostList>
      <Host Name="PPRO" Port="${DEBUG_PORT}"/>
    </HostList>
  </Extension>
</ExtensionList>
`,
  );
}

/** The whole extension folder: panel, host script, manifest, icons, .debug. */
export async function buildPremiere(): Promise<string> {
  await buildPanel(); // empties dist first
  await writeFile(path.join(DIST_DIR, 'host.jsx'), await buildHostScript());
  await writeManifest(DIST_DIR);
  await writeIcons(DIST_DIR);
  await writeDebugFile(DIST_DIR);
  return DIST_DIR;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildPremiere().then(
    (dir) => console.log(`built the Premiere extension in ${path.relative(process.cwd(), dir) || '.'}`),
    (err: unknown) => {
      console.error(err instanceof Error ? err.message : String(err));
      process.exitCode = 1;
    },
  );
}
