// The modules UXP gives a plugin through require(): Premiere's DOM (`premierepro`, typed by
// Adobe's @adobe/premierepro) and UXP's own (`os` typed by @adobe/cc-ext-uxp-types; `fs` and
// `uxp.storage` narrowly here, see below).
// Bundled as one classic script, `require` here is UXP's, not a bundler's.
import type { premierepro } from '@adobe/premierepro';

declare const require: (id: string) => unknown;

/**
 * UXP's `fs`, the one call used. (@adobe/cc-ext-uxp-types 7.3 declares its callback required;
 * UXP's reference documents that without one it returns a Promise, which is how it is used.)
 */
export interface UxpFs {
  readFile(path: string, options: { encoding: 'utf-8' }): Promise<string>;
}

/** A file entry as UXP's pickers return it. */
export interface UxpFileEntry {
  readonly nativePath: string;
}

/**
 * `require('uxp').storage`, the part used. (@adobe/cc-ext-uxp-types 7.3 declares the storage
 * classes but not the localFileSystem instance; signature from UXP's LocalFileSystemProvider.)
 */
export interface UxpStorage {
  readonly localFileSystem: {
    getFileForOpening(options: { types?: string[]; allowMultiple?: boolean }): Promise<UxpFileEntry | UxpFileEntry[] | null | undefined>;
  };
  /** Encrypted per-user key-value store (UXP SecureStorage: values come back as bytes). */
  readonly secureStorage: {
    setItem(key: string, value: string): Promise<void>;
    getItem(key: string): Promise<Uint8Array>;
    removeItem(key: string): Promise<void>;
  };
}

export interface UxpModules {
  readonly ppro: premierepro;
  readonly uxp: { readonly storage: UxpStorage };
  readonly fs: UxpFs;
  readonly os: typeof import('os');
}

export function uxpModules(): UxpModules {
  return {
    ppro: require('premierepro') as premierepro,
    uxp: require('uxp') as { storage: UxpStorage },
    fs: require('fs') as UxpFs,
    os: require('os') as typeof import('os'),
  };
}
