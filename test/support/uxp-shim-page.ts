// Runs in the page (bundled by uxp-shim.ts): installs `require` with the FAKE premierepro module
// and UXP's fs/os/uxp stand-ins, and `window.__uxp` for the test.
import { FakePremierepro } from './premierepro-fake.js';
import { ProjectModel, type MediaInfo } from './premierepro-fake-model.js';

interface ShimWindow {
  __uxpPlatform: string;
  __uxpHome: string;
  __uxpProbe(path: string): Promise<MediaInfo | null>;
  __uxpReadFile(url: string): Promise<{ text?: string; error?: string }>;
  require(id: string): unknown;
  __uxp: unknown;
  TextDecoder?: unknown;
}

const w = globalThis as unknown as ShimWindow;
const project = new ProjectModel((p) => w.__uxpProbe(p), 'Interview');
const fake = new FakePremierepro(project);
const picks: string[] = [];
/** UXP secureStorage stand-in: kept in memory, values back as bytes as UXP documents. */
const secure = new Map<string, Uint8Array>();
const modules: Record<string, unknown> = {
  premierepro: fake.module(),
  uxp: {
    storage: {
      localFileSystem: { getFileForOpening: async () => (picks.length > 0 ? { nativePath: picks.shift()! } : null) },
      secureStorage: {
        setItem: async (key: string, value: string) => void secure.set(key, new TextEncoder().encode(value)),
        getItem: async (key: string) => {
          const v = secure.get(key);
          if (!v) throw new Error(`secureStorage: no item ${key}`);
          return v;
        },
        removeItem: async (key: string) => void secure.delete(key),
      },
    },
  },
  fs: {
    readFile: async (url: string, options: { encoding?: string }) => {
      if (options?.encoding !== 'utf-8') throw new Error('UXP shim: readFile without utf-8 encoding returns an ArrayBuffer');
      const r = await w.__uxpReadFile(url);
      if (r.error !== undefined) throw new Error(r.error);
      return r.text!;
    },
  },
  os: { platform: () => w.__uxpPlatform, homedir: () => w.__uxpHome },
};
w.require = (id: string) => {
  if (id in modules) return modules[id];
  throw new Error(`UXP shim: no module "${id}"`);
};
delete w.TextDecoder;
w.__uxp = { project, fake, pick: (p: string) => picks.push(p), state: {} as Record<string, unknown> };
