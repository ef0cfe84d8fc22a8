// The UXP plugin: built into panels/premiere-uxp/dist (manifest.json from uxp.config.ts, one
// classic script: UXP provides `require` for premierepro/uxp/fs/os). Modes (CLEANPLATE_UXP_MODE):
// build, dev (watch + hot reload through vite-uxp-plugin), package (also writes ccx/*.ccx).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';
import { uxp } from 'vite-uxp-plugin';
import { uxpConfig } from './uxp.config.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const version = (JSON.parse(readFileSync(path.join(here, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
const mode = process.env.CLEANPLATE_UXP_MODE ?? 'build';

/** The classic script vite-uxp-plugin leaves in <head> runs before #root exists: move it to the end of <body>. */
function scriptAtEnd(): Plugin {
  return {
    name: 'cleanplate-uxp-script-at-end',
    enforce: 'post',
    transformIndexHtml: {
      order: 'post',
      handler(html) {
        const tags = html.match(/<script\b[^>]*><\/script>\s*/g) ?? [];
        let out = html;
        for (const t of tags) out = out.replace(t, '');
        return out.replace('</body>', `${tags.map((t) => t.trim()).join('\n')}\n</body>`);
      },
    },
  };
}

export default defineConfig({
  root: here,
  base: './',
  define: { __CLEANPLATE_VERSION__: JSON.stringify(version) },
  plugins: [uxp(uxpConfig(version, mode), mode), scriptAtEnd()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    modulePreload: false,
    sourcemap: mode === 'dev',
    minify: mode !== 'dev',
    // UXP's own modules: left as require() calls for UXP to answer.
    rollupOptions: { external: ['premierepro', 'uxp', 'fs', 'os'], output: { format: 'iife', entryFileNames: 'index.js', assetFileNames: 'assets/[name][extname]' } },
  },
});
