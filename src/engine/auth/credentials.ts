// Which bearer secrets the engine accepts: the per-start token (engine.json; the CEP panel, the
// CLI) and the panel key (auth/panel-key.ts; the OBS dock, other panels). The key file is re-read
// when it changes, so `cleanplate panel-key --rotate` takes effect without a restart.
import { createHash, timingSafeEqual } from 'node:crypto';
import { statSync } from 'node:fs';
import { panelKeyPath, readPanelKey } from './panel-key.js';

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Constant-time comparison of two secrets (digests make the lengths equal). */
export function sameSecret(offered: string, expected: string): boolean {
  return timingSafeEqual(digest(offered), digest(expected));
}

export interface CredentialsOptions {
  readonly token: string;
  /** The panel key; with `configDir`, the key file is followed instead. */
  readonly panelKey?: string;
  /** Folder of the panel-key file to follow. */
  readonly configDir?: string;
}

export class Credentials {
  readonly token: string;
  private key: string | undefined;
  private keyStamp = '';

  constructor(private readonly options: CredentialsOptions) {
    this.token = options.token;
    this.key = options.panelKey;
    this.refreshKey();
  }

  /** The panel key in force now (undefined when there is none). */
  get panelKey(): string | undefined {
    this.refreshKey();
    return this.key;
  }

  /** True when `offered` is the token or the current panel key. */
  accepts(offered: string | undefined): boolean {
    if (!offered) return false;
    if (sameSecret(offered, this.token)) return true;
    const key = this.panelKey;
    return key !== undefined && sameSecret(offered, key);
  }

  private refreshKey(): void {
    const dir = this.options.configDir;
    if (!dir) return;
    let stamp: string;
    try {
      const s = statSync(panelKeyPath(dir));
      stamp = `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      stamp = 'absent';
    }
    if (stamp === this.keyStamp) return;
    this.keyStamp = stamp;
    this.key = readPanelKey(dir);
  }
}
