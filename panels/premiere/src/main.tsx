import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { cepHost } from './cep-host.js';
import { PanelMemory } from './clip-jobs.js';
import { Panel } from './panel.js';
import './panel.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Panel host={cepHost} memory={new PanelMemory(window.localStorage)} />
  </StrictMode>,
);
