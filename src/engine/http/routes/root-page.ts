// GET /: what this server is and where to go next, for someone who opens the URL `npm start`
// prints. No credential and none shown: the dock URL (which carries the panel key) comes from
// `cleanplate obs dock-url`. HTML for browsers, JSON for everything else (curl, scripts).
import { Router } from 'express';
import type { EngineContext } from '../context.js';
import { pageHeaders } from './obs-dock.js';

export interface EngineRootInfo {
  readonly name: 'cleanplate-engine';
  readonly version: string;
  readonly api: string;
  readonly obsDock: string;
  readonly premiere: string;
  readonly docs: readonly string[];
}

function rootInfo(ctx: EngineContext): EngineRootInfo {
  return {
    name: 'cleanplate-engine',
    version: ctx.version,
    api: '/v1/... (Authorization: Bearer <token from engine.json>; see docs/engine-api.md)',
    obsDock: 'run "npx cleanplate obs dock-url" in the CleanPlate folder and add the URL it prints in OBS: Docks > Custom Browser Docks (the URL carries the panel key: paste it nowhere else)',
    premiere: 'the CleanPlate panel in Premiere Pro (Window > Extensions > CleanPlate) finds this engine by itself; see docs/premiere.md',
    docs: ['README.md', 'docs/obs.md', 'docs/premiere.md', 'docs/cli.md', 'docs/engine-api.md', 'docs/security.md'],
  };
}

const escape = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function rootPageRoutes(ctx: EngineContext): Router {
  const router = Router({ strict: true });
  router.get('/', (req, res) => {
    const info = rootInfo(ctx);
    pageHeaders(res);
    res.setHeader('Cache-Control', 'no-store');
    if (!req.accepts('html')) return void res.json(info);
    res.type('html').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CleanPlate engine ${escape(info.version)}</title>
<style>body{font:15px/1.5 system-ui,sans-serif;max-width:44em;margin:2em auto;padding:0 1em}code{background:#eee;padding:0 .3em}</style></head>
<body>
<h1>CleanPlate engine ${escape(info.version)}</h1>
<p>This is the local CleanPlate engine (background matting with a clean plate). It is running; it only answers on this computer.</p>
<h2>OBS dock</h2>
<p>Run <code>npx cleanplate obs dock-url</code> in the CleanPlate folder and add the URL it prints in OBS under <em>Docks &gt; Custom Browser Docks</em>. The URL carries the panel key: paste it nowhere else. Without docks (Debian's OBS): <code>npx cleanplate obs --help</code>.</p>
<h2>Premiere Pro</h2>
<p>${escape(info.premiere)}.</p>
<h2>API and docs</h2>
<p>The HTTP API lives under <code>/v1</code> and needs the token from <code>engine.json</code>. Documentation in the CleanPlate folder: ${info.docs.map((d) => `<code>${escape(d)}</code>`).join(', ')}.</p>
</body></html>
`);
  });
  return router;
}
