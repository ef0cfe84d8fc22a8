// The engine's routes, mounted in this order. To add routes, write a router file and add one
// line to a list: `apiRoutes` are mounted under /v1 behind the bearer token, `pageRoutes` at the
// root without it (pages the engine serves, e.g. /obs/: they must hold no secret and no data; list
// every such route in docs/engine-api.md, "Routes without a credential").
import type { Router } from 'express';
import type { EngineContext } from '../context.js';
import { backgroundRoutes } from './backgrounds.js';
import { healthRoutes } from './health.js';
import { jobRoutes } from './jobs.js';
import { matteRoutes } from './matte.js';
import { modelRoutes } from './models.js';
import { obsDockRoutes } from './obs-dock.js';
import { rootPageRoutes } from './root-page.js';

export type RouteFactory = (ctx: EngineContext) => Router;

export const apiRoutes: RouteFactory[] = [healthRoutes, modelRoutes, backgroundRoutes, matteRoutes, jobRoutes];

export const pageRoutes: RouteFactory[] = [rootPageRoutes, obsDockRoutes];
