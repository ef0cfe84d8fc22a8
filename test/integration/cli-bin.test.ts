// The `cleanplate` bin in a source checkout: `npx cleanplate` runs ours right after `npm ci`
// (no build: bin/cleanplate.js runs src/ through tsx), with our help and exit codes.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function run(file: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd: repo, timeout: 120_000 }, (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? -1) : 0, stdout, stderr }));
  });
}

describe.concurrent('the cleanplate bin', () => {
  it("npx cleanplate --help prints our help (not npm's), exit 0", async () => {
    const r = await run('npx', ['--no-install', 'cleanplate', '--help']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^cleanplate \d+\.\d+\.\d+: local background matting with a clean plate/);
    expect(r.stdout).toMatch(/^commands:$/m);
    expect(r.stdout).toMatch(/^\s+matte\s+matte stills/m);
  });

  it('packs as an installable application (npm install -g <tarball>): the bin, the manifest and the OBS dock, no sources or tests', async () => {
    const r = await run('npm', ['pack', '--dry-run', '--ignore-scripts', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(['bin/cleanplate.js', 'models/manifest.json', 'package.json']));
    expect(files.filter((f) => /^(src|test|bench|scripts|host|node_modules)\//.test(f))).toEqual([]);
    const pkg = JSON.parse(await readFile(path.join(repo, 'package.json'), 'utf8')) as { bin: Record<string, string>; files: string[]; scripts: Record<string, string> };
    expect(pkg.bin.cleanplate).toBe('bin/cleanplate.js');
    expect(pkg.files).toContain('dist/'); // built by prepack
    expect(pkg.scripts.prepack).toMatch(/npm run build/);
  });

  it('runs the source, not a build: an unknown command exits 2 with our message', async () => {
    const r = await run(process.execPath, [path.join(repo, 'bin', 'cleanplate.js'), 'frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/cleanplate: unknown command "frobnicate"/);
  });
});
