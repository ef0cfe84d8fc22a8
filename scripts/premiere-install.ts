// npm run install:premiere [-- --copy] [--uninstall] [--dry-run] [--platform darwin|win32] [--no-build]
// Development install of the Premiere panel: builds it, links (or copies) panels/premiere/dist into
// the per-user CEP extensions folder as com.cleanplate.premiere, and turns on PlayerDebugMode for
// CSXS 11 and 12 (unsigned extensions load only with it). Prints every step. Premiere runs on
// macOS and Windows only; elsewhere --dry-run shows what would be done there.
import { execFile } from 'node:child_process';
import { cp, lstat, mkdir, readFile, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs, promisify } from 'node:util';
import { buildPremiere, DIST_DIR, EXTENSION_ID } from './premiere-build.js';

export type InstallPlatform = 'darwin' | 'win32';
export const CSXS_VERSIONS = ['11', '12'] as const;

export interface InstallPlan {
  readonly platform: InstallPlatform;
  readonly source: string;
  readonly extensionsDir: string;
  readonly target: string;
  readonly mode: 'symlink' | 'copy';
  /** Commands (argument lists, no shell) that set PlayerDebugMode=1 for each CSXS version. */
  readonly debugModeCommands: readonly (readonly string[])[];
}

/** Where the extension goes and how debug mode is set, for a user's home and environment. */
export function planInstall(o: { platform: InstallPlatform; home: string; env: NodeJS.ProcessEnv; mode: 'symlink' | 'copy'; source?: string }): InstallPlan {
  const p = o.platform === 'win32' ? path.win32 : path.posix;
  const extensionsDir =
    o.platform === 'win32'
      ? p.join(o.env.APPDATA ?? p.join(o.home, 'AppData', 'Roaming'), 'Adobe', 'CEP', 'extensions')
      : p.join(o.home, 'Library', 'Application Support', 'Adobe', 'CEP', 'extensions');
  const debugModeCommands = CSXS_VERSIONS.map((v) =>
    o.platform === 'win32'
      ? ['reg', 'add', `HKCU\\Software\\Adobe\\CSXS.${v}`, '/v', 'PlayerDebugMode', '/t', 'REG_SZ', '/d', '1', '/f']
      : ['defaults', 'write', `com.adobe.CSXS.${v}`, 'PlayerDebugMode', '1'],
  );
  return { platform: o.platform, source: o.source ?? DIST_DIR, extensionsDir, target: p.join(extensionsDir, EXTENSION_ID), mode: o.mode, debugModeCommands };
}

export type CommandRunner = (argv: readonly string[]) => Promise<void>;

const runCommand: CommandRunner = async (argv) => {
  await promisify(execFile)(argv[0]!, argv.slice(1));
};

/** True when `dir` holds a CleanPlate extension (a previous copy install): safe to replace. */
async function isOurExtension(dir: string): Promise<boolean> {
  const manifest = await readFile(path.join(dir, 'CSXS', 'manifest.xml'), 'utf8').catch(() => '');
  return manifest.includes(`ExtensionBundleId="${EXTENSION_ID}"`);
}

/** Removes what a previous install left at the target; refuses anything that is not ours. */
async function clearTarget(target: string, log: (line: string) => void, dryRun: boolean): Promise<void> {
  const info = await lstat(target).catch(() => undefined);
  if (!info) return;
  if (info.isSymbolicLink()) {
    log(`${dryRun ? 'would remove' : 'removed'} the previous link ${target}`);
  } else if (info.isDirectory() && (await isOurExtension(target))) {
    log(`${dryRun ? 'would remove' : 'removed'} the previous copy ${target}`);
  } else {
    throw new Error(`${target} exists and is not a CleanPlate install: move it away first (nothing was changed)`);
  }
  if (!dryRun) await rm(target, { recursive: true, force: true });
}

export async function installExtension(plan: InstallPlan, o: { dryRun: boolean; run?: CommandRunner; log: (line: string) => void }): Promise<void> {
  const { log, dryRun } = o;
  const verb = (done: string, would: string): string => (dryRun ? would : done);
  await clearTarget(plan.target, log, dryRun);
  if (!dryRun) {
    await mkdir(plan.extensionsDir, { recursive: true });
    if (plan.mode === 'symlink') await symlink(plan.source, plan.target, plan.platform === 'win32' ? 'junction' : 'dir');
    else await cp(plan.source, plan.target, { recursive: true });
  }
  log(`${verb(plan.mode === 'symlink' ? 'linked' : 'copied', plan.mode === 'symlink' ? 'would link' : 'would copy')} ${plan.target} ${plan.mode === 'symlink' ? '->' : 'from'} ${plan.source}`);
  for (const argv of plan.debugModeCommands) {
    if (!dryRun) await (o.run ?? runCommand)(argv);
    log(`${verb('ran', 'would run')}: ${argv.map((a) => (/\s/.test(a) ? `"${a}"` : a)).join(' ')}`);
  }
  log(dryRun ? 'dry run: nothing was changed' : 'done: restart Premiere Pro, then open Window > Extensions > CleanPlate (start the engine with "npm start")');
}

export async function uninstallExtension(plan: InstallPlan, o: { dryRun: boolean; log: (line: string) => void }): Promise<void> {
  const exists = await lstat(plan.target).catch(() => undefined);
  if (!exists) return o.log(`nothing installed at ${plan.target}`);
  await clearTarget(plan.target, o.log, o.dryRun);
  o.log('PlayerDebugMode is left as it is (other extensions may need it)');
}

const USAGE = `usage: npm run install:premiere -- [--copy] [--uninstall] [--dry-run] [--platform darwin|win32] [--no-build]
  --copy       copy the build instead of linking it (a link follows later builds)
  --uninstall  remove the installed panel
  --dry-run    print what would be done, change nothing (any platform)
  --platform   plan for macOS (darwin) or Windows (win32); only with --dry-run on another OS
  --no-build   use panels/premiere/dist as it is`;

/** The command line; returns the exit code. */
export async function main(args: string[], log: (line: string) => void = console.log, err: (line: string) => void = console.error): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      options: {
        copy: { type: 'boolean' },
        uninstall: { type: 'boolean' },
        'dry-run': { type: 'boolean' },
        platform: { type: 'string' },
        'no-build': { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    err(`${e instanceof Error ? e.message : String(e)}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    log(USAGE);
    return 0;
  }
  const dryRun = values['dry-run'] === true;
  const platform = values.platform ?? process.platform;
  if (platform !== 'darwin' && platform !== 'win32') {
    err(
      `Premiere Pro does not run on ${platform === 'linux' ? 'Linux' : platform}: nothing was installed. It runs on macOS and Windows; "--dry-run --platform darwin" (or win32) shows what the install does there.`,
    );
    return 1;
  }
  if (platform !== process.platform && !dryRun) {
    err(`this machine is ${process.platform}: an install for ${platform} can only be planned here (add --dry-run)`);
    return 2;
  }
  const plan = planInstall({ platform, home: os.homedir(), env: process.env, mode: values.copy ? 'copy' : 'symlink' });
  try {
    if (values.uninstall) {
      await uninstallExtension(plan, { dryRun, log });
      return 0;
    }
    if (!dryRun && !values['no-build']) log(`built ${await buildPremiere()}`);
    else if (dryRun) log(`would build ${plan.source}`);
    await installExtension(plan, { dryRun, log });
    return 0;
  } catch (e) {
    err(e instanceof Error ? e.message : String(e));
    return 1;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  process.exitCode = await main(process.argv.slice(2));
}
