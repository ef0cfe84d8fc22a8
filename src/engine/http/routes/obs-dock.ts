// GET /obs/: the OBS dock page (panels/obs, built by `npm run build`) with the engine's token
// embedded, so a Custom Browser Dock needs nothing but the URL. GET /obs/layer.html?session=N:
// a live session's mattes drawn with alpha, for OBS builds that have a Browser Source. Only
// same-origin pages can read them: the Host guard stops DNS rebinding, CORS every other site.
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { EngineContext } from '../context.js';
import { HttpError } from '../errors.js';

/** panels/obs/dist, three levels above src/engine/http/routes (or dist/engine/http/routes). */
export const DOCK_DIST_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'panels', 'obs', 'dist');
const TOKEN_PLACEHOLDER = '__CLEANPLATE_TOKEN__';

export function obsDockRoutes(ctx: EngineContext, distDir = DOCK_DIST_DIR): Router {
  // strict: /obs and /obs/ are different routes (the first redirects to the second).
  const router = Router({ strict: true });
  const notBuilt = (): HttpError => new HttpError(404, 'not_found', 'the OBS dock page is not built: run "npm run build" in the CleanPlate folder, then reload');

  router.get('/obs', (_req, res) => res.redirect(301, '/obs/'));
  // The dock, and the matte layer page (for Browser Sources): both with the token embedded.
  router.get(['/obs/', '/obs/layer.html'], async (req, res) => {
    const file = path.join(distDir, req.path === '/obs/' ? 'index.html' : 'layer.html');
    if (!existsSync(file)) throw notBuilt();
    const html = (await readFile(file, 'utf8')).replace(TOKEN_PLACEHOLDER, ctx.token);
    res.setHeader('Cache-Control', 'no-store'); // the token changes at every engine start
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.type('html').send(html);
  });
  router.use('/obs/assets', express.static(path.join(distDir, 'assets'), { immutable: true, maxAge: '1y', fallthrough: true }));
  return router;
}
