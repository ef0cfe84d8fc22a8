// The CEP objects the panel uses, as plain interfaces (no DOM types), typed here because
// @adobe/cep-types does not exist on the registry. cep.ts attaches them to `window`.

export interface CepEvent {
  readonly type: string;
  /** A string as dispatched by ExtendScript (JSON here). */
  readonly data: unknown;
}

export interface AdobeCep {
  evalScript(script: string, callback: (result: string) => void): void;
  addEventListener(type: string, listener: (event: CepEvent) => void, obj?: unknown): void;
  removeEventListener(type: string, listener: (event: CepEvent) => void, obj?: unknown): void;
}

export interface CepNode {
  require(id: 'fs'): { readFile(path: string, encoding: 'utf8', callback: (err: Error | null, text: string) => void): void; existsSync(path: string): boolean };
  require(id: 'os'): { homedir(): string };
  require(id: 'child_process'): {
    spawn(
      command: string,
      args: string[],
      options: { detached: boolean; stdio: 'ignore'; windowsHide: boolean; shell: boolean; env: Record<string, string | undefined> },
    ): { unref(): void; on(event: 'error', listener: (err: Error) => void): void };
  };
  readonly process: { readonly platform: string; readonly env: Record<string, string | undefined> };
}

export interface CepFs {
  /** err 0 = ok; data = chosen paths (empty when cancelled). */
  showOpenDialogEx(allowMultiple: boolean, chooseDirectory: boolean, title: string, initialPath: string, fileTypes: string[]): { err: number; data: string[] };
}
