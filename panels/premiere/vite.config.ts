// The Premiere panel: built into panels/premiere/dist (scripts/premiere-build.ts adds host.jsx and
// CSXS/manifest.xml). CEP loads index.html from file://, where module scripts are refused (origin
// null), so the bundle is one classic IIFE script with relative URLs.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

/** Turns Vite's module script and crossorigin attributes into a classic deferred script. */
function classicScript(): Plugin {
  return {
    name: 'cleanplate-classic-script',
    enforce: 'post',
    transformIndexHtml(html) {
      return html.replace(/<script type="module" crossorigin/g, '<script defer').replace(/ crossorigin/g, '');
    },
  };
}

export default defineConfig({
  root: path.dirname(fileURLToPath(import.meta.url)),
  base: './',
  plugins: [classicScript()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // CEP 11 (Premiere 22-24) runs Chromium 88; CEP 12 runs 99.
    target: 'chrome88',
    modulePreload: false,
    rollupOptions: { output: { format: 'iife', inlineDynamicImports: true } },
  },
});
