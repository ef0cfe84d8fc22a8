// The parts of CEP the panel uses, typed here (@adobe/cep-types does not exist on the registry):
// the native `window.__adobe_cep__` (what CSInterface.js wraps), `cep_node` (Node, enabled by
// --enable-nodejs in the manifest) and `cep.fs` (file dialogs). On top: evalTS, one typed call
// into the host whose names, arguments and results come from host/src/api.ts, and listenTS for
// the host's typed events.
import { HOST_EVENT_PREFIX, type HostApi, type HostEvents } from '../../../host/src/api.js';
import type { AdobeCep, CepEvent, CepFs, CepNode } from './cep-types.js';
import { HostError, hostCallScript, readHostReply } from './host-script.js';

declare global {
  interface Window {
    __adobe_cep__?: AdobeCep;
    cep_node?: CepNode;
    cep?: { fs: CepFs };
  }
}

/** Calls a host function; resolves with its value or rejects with a HostError in plain words. */
export function evalTS<K extends keyof HostApi>(name: K, ...args: Parameters<HostApi[K]>): Promise<ReturnType<HostApi[K]>> {
  const cep = window.__adobe_cep__;
  if (!cep) return Promise.reject(new HostError('bridge_failed', 'This page is not running inside Premiere Pro (no CEP bridge).'));
  return new Promise((resolve, reject) => {
    cep.evalScript(hostCallScript(name, args), (reply) => {
      try {
        resolve(readHostReply<ReturnType<HostApi[K]>>(reply));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Subscribes to a host event; returns the unsubscribe function. */
export function listenTS<K extends keyof HostEvents>(name: K, handler: (data: HostEvents[K]) => void): () => void {
  const cep = window.__adobe_cep__;
  if (!cep) return () => undefined;
  const listener = (event: CepEvent): void => {
    try {
      handler((typeof event.data === 'string' ? JSON.parse(event.data) : event.data) as HostEvents[K]);
    } catch {
      // a malformed event is dropped; the panel re-reads state on focus anyway
    }
  };
  cep.addEventListener(HOST_EVENT_PREFIX + name, listener);
  return () => cep.removeEventListener(HOST_EVENT_PREFIX + name, listener);
}

/** The open-file dialog; null when cancelled or unavailable. */
export function chooseFile(title: string, types: string[]): string | null {
  const fs = window.cep?.fs;
  if (!fs) return null;
  const result = fs.showOpenDialogEx(false, false, title, '', types);
  return result.err === 0 && result.data.length > 0 ? result.data[0]! : null;
}
