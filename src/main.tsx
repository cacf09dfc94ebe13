import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './ui/shell/App';
import { appShell } from './ui/shell/app-shell';
import './app.css';

// The offline shell (sw.js, written by the build beside index.html) in production builds only.
if (import.meta.env.PROD) appShell.start(new URL('sw.js', document.baseURI).href);

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
