// The PanelHost of the UXP plugin: host calls answered in the panel's own context by the
// premierepro module (uxp-host.ts), selection events from Premiere's EventManager, UXP's file
// picker, and engine.json read with UXP's fs. The shared panel (panels/premiere/src/panel.tsx)
// runs on this exactly as on the CEP bridge.
import type { HostEvents } from '../../../host/src/api.js';
import type { PanelHost } from '../../premiere/src/panel-host.js';
import { locateEngineUxp, saveCredential } from './uxp-engine.js';
import { callHost, UxpPremiereHost } from './uxp-host.js';
import type { UxpModules } from './uxp-modules.js';

export function uxpPanelHost(mods: UxpModules): PanelHost {
  const host = new UxpPremiereHost(mods.ppro);
  return {
    kind: 'UXP',
    call: (name, ...args) => callHost(host, name, args),
    on<K extends keyof HostEvents>(name: K, handler: (data: HostEvents[K]) => void): () => void {
      if (name !== 'selectionChanged') return () => undefined;
      const { EventManager, Constants } = mods.ppro;
      // Global listeners: they keep working when another sequence becomes the active one.
      const changed = (): void => handler({ sequenceId: null } as HostEvents[K]);
      EventManager.addGlobalEventListener(Constants.SequenceEvent.SELECTION_CHANGED, changed);
      EventManager.addGlobalEventListener(Constants.SequenceEvent.ACTIVATED, changed);
      return () => {
        EventManager.removeGlobalEventListener(Constants.SequenceEvent.SELECTION_CHANGED, changed);
        EventManager.removeGlobalEventListener(Constants.SequenceEvent.ACTIVATED, changed);
      };
    },
    async chooseFile(_title, types) {
      const picked = await mods.uxp.storage.localFileSystem.getFileForOpening({ types, allowMultiple: false });
      const file = Array.isArray(picked) ? picked[0] : picked;
      return file && typeof file.nativePath === 'string' && file.nativePath !== '' ? file.nativePath : null;
    },
    locateEngine: () => locateEngineUxp(mods),
    saveCredential: (text) => saveCredential(mods, text),
  };
}
