// `npm run bench [name...]`: runs every suite in bench/suites (or the named ones) in one process,
// one after another, so the ratios each suite prints are measured under the same conditions.
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'suites');
const wanted = process.argv.slice(2);
const files = (await readdir(dir)).filter((f) => f.endsWith('.ts')).sort();
const chosen = wanted.length ? files.filter((f) => wanted.includes(path.basename(f, '.ts'))) : files;
if (wanted.length && chosen.length !== wanted.length) {
  console.error(`unknown bench suite(s); available: ${files.map((f) => path.basename(f, '.ts')).join(', ')}`);
  process.exit(2);
}
for (const f of chosen) {
  const suite = (await import(pathToFileURL(path.join(dir, f)).href)) as { default: () => Promise<void> };
  console.log(`\n## ${path.basename(f, '.ts')}`);
  await suite.default();
}
