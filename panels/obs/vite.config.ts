// The OBS dock page: built into panels/obs/dist, served by the engine at /obs/ (token embedded).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig({
  root: path.dirname(fileURLToPath(import.meta.url)),
  base: '/obs/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // OBS 28-30 docks run CEF 103 (Chromium 103).
    target: 'chrome103',
  },
});
