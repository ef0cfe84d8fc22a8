// GET /v1/health: is the engine up, which version, which models, on which execution providers.
import { Router } from 'express';
import type { Health, MediaToolsHealth } from '../../../shared/api.js';
import type { EngineContext } from '../context.js';
import { messageOf } from '../../../shared/error-message.js';

export function healthRoutes(ctx: EngineContext): Router {
  const router = Router();
  router.get('/health', async (_req, res) => {
    const media: MediaToolsHealth = await ctx.mediaTools().then(
      (t) => ({ ffmpeg: t.ffmpeg, ffprobe: t.ffprobe }),
      (err: unknown) => ({ error: messageOf(err) }),
    );
    const providers = ctx.matting.providerStatus();
    const health: Health = {
      version: ctx.version,
      uptimeSeconds: Math.round((Date.now() - ctx.startedAt) / 1000),
      models: ctx.registry.list().map((m) => ({
        id: m.id,
        kind: m.kind,
        available: m.available,
        provider: ctx.matting.providerOf(m.id),
        ...(m.kind === 'bgmv2' ? { preset: ctx.matting.presetOf(m.id) ?? (typeof m.settings.preset === 'string' ? m.settings.preset : null) } : {}),
      })),
      defaultModel: ctx.registry.defaultModel,
      providers,
      ...(ctx.matting.warmUpError ? { warmUpError: ctx.matting.warmUpError } : {}),
      media,
    };
    res.json(health);
  });
  return router;
}
