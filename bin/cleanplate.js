#!/usr/bin/env node
// The `cleanplate` command. In a source checkout (src/ present) it runs the TypeScript CLI
// through tsx, so `npx cleanplate` works right after `npm ci` with no build and never runs a
// stale build; an installed package (no src/, see "files" in package.json) runs the built dist/.
import { existsSync } from 'node:fs';
import process from 'node:process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const source = path.join(root, 'src', 'cli', 'main.ts');
const built = path.join(root, 'dist', 'cli', 'main.js');

if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write(`cleanplate: neither ${source} nor ${built} exists: reinstall the package\n`);
  process.exitCode = 1;
}
