import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Dock } from './dock.js';
import './dock.css';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <Dock />
  </StrictMode>,
);
