// The PanelHost of the CEP panel: host calls through evalScript into host.jsx, CSXS events,
// CEP's file dialog, and engine.json read with CEP's Node.
import { chooseFile, evalTS, listenTS } from './cep.js';
import { locateEngine } from './engine-locator.js';
import type { PanelHost } from './panel-host.js';

export const cepHost: PanelHost = {
  kind: 'CEP',
  call: evalTS,
  on: listenTS,
  chooseFile: (title, types) => Promise.resolve(chooseFile(title, types)),
  locateEngine: () => locateEngine(window.cep_node),
};
