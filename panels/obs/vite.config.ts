// The OBS dock page: built into panels/obs/dist, served by the engine at /obs/ (token embedded).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/obs/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // OBS 28-30 docks run CEF 103 (Chromium 103).
    target: 'chrome103',
    rollupOptions: {
      // The dock, and the matte layer page for Browser Sources.
      input: { index: path.join(root, 'index.html'), layer: path.join(root, 'layer.html') },
    },
  },
});
