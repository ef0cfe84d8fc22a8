// The UXP plugin's manifest (v5) and vite-uxp-plugin settings. Premiere 25.6+ loads UXP plugins;
// the CEP panel (panels/premiere) stays for older versions.
import type { UXP_Config } from 'vite-uxp-plugin';

export const PLUGIN_ID = 'com.cleanplate.premiere.uxp';
export const HOT_RELOAD_PORT = 8791;

export function uxpConfig(version: string, mode: string): UXP_Config {
  return {
    manifest: {
      manifestVersion: 5,
      id: PLUGIN_ID,
      name: 'CleanPlate',
      version,
      main: 'index.html',
      host: [{ app: 'premierepro', minVersion: '25.6.0' }],
      entrypoints: [
        {
          type: 'panel',
          id: 'cleanplate.panel',
          label: { default: 'CleanPlate' },
          minimumSize: { width: 300, height: 480 },
          preferredDockedSize: { width: 340, height: 640 },
          preferredFloatingSize: { width: 340, height: 760 },
        },
      ],
      requiredPermissions: {
        // The engine on loopback only (any port: engine.json names it). The dev build also
        // reaches vite-uxp-plugin's hot-reload socket.
        network: { domains: ['http://127.0.0.1', ...(mode === 'dev' ? [`ws://localhost:${HOT_RELOAD_PORT}`] : [])] },
        // engine.json (port + per-start token) sits in the user's config folder, outside the
        // plugin's own folders: reading it needs fullAccess. The plate file picker needs "request".
        localFileSystem: 'fullAccess',
      },
    },
    hotReloadPort: HOT_RELOAD_PORT,
    webviewUi: false,
    webviewReloadPort: HOT_RELOAD_PORT + 1,
    copyZipAssets: [],
    // One host app: keep the plugin id as it is (no "_premierepro" suffix).
    uniqueIds: false,
  };
}
