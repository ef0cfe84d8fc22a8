import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { PanelMemory } from './clip-jobs.js';
import { Panel } from './panel.js';
import './panel.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Panel memory={new PanelMemory(window.localStorage)} />
  </StrictMode>,
);
