// GET /obs/: the OBS dock page (panels/obs, built by `npm run build`). GET /obs/layer.html: a live
// session's mattes drawn with alpha, for OBS builds that have a Browser Source. These pages
// answer without a credential and so hold none: the dock reads the panel key from its URL's
// fragment (`/obs/#key=...`, printed by `cleanplate obs dock-url`), which browsers never send to
// a server and foreign pages cannot read. No CORS headers: other origins cannot read them at all.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router, type Response } from 'express';
import type { EngineContext } from '../context.js';
import { HttpError } from '../errors.js';

/** panels/obs/dist, three levels above src/engine/http/routes (or dist/engine/http/routes). */
export const DOCK_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'panels', 'obs', 'dist');

/** Headers for every dock file: not framed by other sites, never a referrer, no sniffing. */
export function pageHeaders(res: Response): void {
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Content-Security-Policy', "frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
}

export function obsDockRoutes(_ctx: EngineContext, distDir = DOCK_DIST_DIR): Router {
  // strict: /obs and /obs/ are different routes (the first redirects to the second).
  const router = Router({ strict: true });
  const notBuilt = (): HttpError => new HttpError(404, 'not_found', 'the OBS dock page is not built: run "npm run build" in the CleanPlate folder, then reload');

  router.get('/obs', (_req, res) => res.redirect(301, '/obs/'));
  router.get(['/obs/', '/obs/layer.html'], (req, res) => {
    const file = path.join(distDir, req.path === '/obs/' ? 'index.html' : 'layer.html');
    if (!existsSync(file)) throw notBuilt();
    pageHeaders(res);
    res.setHeader('Cache-Control', 'no-cache'); // a rebuilt dock shows at the next load
    res.sendFile(file);
  });
  router.use('/obs/assets', (_req, res, next) => (pageHeaders(res), next()), express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: true }));
  return router;
}
