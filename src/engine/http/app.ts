// The express app: guards first (Host, CORS, token), then body parsing and routes, then JSON
// 404 and error handling for everything that falls through.
import express, { type Express } from 'express';
import type { EngineContext } from './context.js';
import { errorHandler, notFound } from './errors.js';
import { apiRoutes, pageRoutes } from './routes/index.js';
import { cors, requireLoopbackHost, requireToken } from './security.js';

export function createApp(ctx: EngineContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requireLoopbackHost);
  app.use(cors(() => ctx.port()));

  const api = express.Router();
  api.use(requireToken(ctx.token));
  api.use(express.json({ limit: '1mb' }));
  for (const routes of apiRoutes) api.use(routes(ctx));
  app.use('/v1', api);
  for (const routes of pageRoutes) app.use(routes(ctx));

  app.use(notFound);
  app.use(errorHandler(ctx.maxUploadBytes, ctx.log));
  return app;
}
