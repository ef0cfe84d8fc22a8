// GET /v1/models: every model in the manifest, whether it can run here, and its provider once open.
// POST /v1/models/:id/speed: the model's measured time per frame at a size (ModelSpeed).
import { Router } from 'express';
import { ModelSpeedRequestSchema, parseWire, type ModelInfo, type ModelList, type ModelSpeed } from '../../../shared/api.js';
import { ModelSpeedMeter } from '../../services/model-speed.js';
import type { EngineContext } from '../context.js';

export function modelRoutes(ctx: EngineContext): Router {
  const router = Router();
  router.get('/models', (_req, res) => {
    const models: ModelInfo[] = ctx.registry.list().map((m) => ({
      id: m.id,
      kind: m.kind,
      default: m.default,
      available: m.available,
      ...(m.unavailableReason ? { unavailableReason: m.unavailableReason } : {}),
      needsPlate: m.needsPlate,
      licence: m.licence,
      source: m.source,
      ...(m.description ? { description: m.description } : {}),
      ...(m.file ? { file: m.file } : {}),
      provider: ctx.matting.providerOf(m.id),
    }));
    const body: ModelList = { models, defaultModel: ctx.registry.defaultModel };
    res.json(body);
  });
  const meter = new ModelSpeedMeter(ctx.matting);
  router.post('/models/:id/speed', async (req, res) => {
    const { width, height } = parseWire(ModelSpeedRequestSchema, req.body);
    const speed: ModelSpeed = await meter.measure(req.params.id, width, height);
    res.json(speed);
  });
  return router;
}
