// The UXP plugin's panel: the shared CleanPlate panel on the UXP PanelHost.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PanelMemory } from '../../premiere/src/clip-jobs.js';
import { Panel } from '../../premiere/src/panel.js';
import '../../premiere/src/panel.css';
import { uxpPanelHost } from './uxp-panel-host.js';
import { uxpModules } from './uxp-modules.js';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Panel host={uxpPanelHost(uxpModules())} memory={new PanelMemory(window.localStorage)} />
  </StrictMode>,
);
