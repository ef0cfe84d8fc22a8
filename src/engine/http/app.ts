// The express app: guards first (Host; on /v1 preflight, credential, CORS), then body parsing and
// routes, then JSON 404 and error handling for everything that falls through. Pages (pageRoutes)
// get no CORS headers and hold no secret.
import express, { type Express } from 'express';
import type { EngineContext } from './context.js';
import { errorHandler, notFound } from './errors.js';
import { apiRoutes, pageRoutes } from './routes/index.js';
import { allowOriginIfAuthed, corsPreflight, requireCredential, requireLoopbackHost } from './security.js';

export function createApp(ctx: EngineContext): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);
  app.use(requireLoopbackHost);

  const api = express.Router();
  api.use(corsPreflight(() => ctx.port()));
  api.use(requireCredential(ctx.credentials));
  api.use(allowOriginIfAuthed(() => ctx.port()));
  api.use(express.json({ limit: '1mb' }));
  for (const routes of apiRoutes) api.use(routes(ctx));
  app.use('/v1', api);
  for (const routes of pageRoutes) app.use(routes(ctx));

  app.use(notFound);
  app.use(errorHandler(ctx.maxUploadBytes, ctx.log));
  return app;
}
