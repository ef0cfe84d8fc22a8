// POST /v1/matte: one still image (+ a plate, uploaded or stored) -> alpha / foreground /
// composite PNGs, base64 in JSON. Field rules: MatteFieldsSchema and
// MatteResponseSchema (shared/api.ts).
import { Router } from 'express';
import { DEFAULT_ALIGN_MODE, DEFAULT_COMPOSITE_COLOR, MATTE_OUTPUTS, MatteFieldsSchema, parseWire, type MatteFields, type MatteResponse } from '../../../shared/api.js';
import type { Frame } from '../../frame.js';
import { decodeImage, imageSize, parseHexColor } from '../../media/image.js';
import { matteStill } from '../../services/stills.js';
import type { EngineContext } from '../context.js';
import { HttpError } from '../errors.js';
import { multipartFiles, requireContentType, textField, uploadedFile } from '../uploads.js';

export function matteRoutes(ctx: EngineContext): Router {
  const router = Router();
  router.post(
    '/matte',
    requireContentType(['multipart/form-data'], 'multipart/form-data (fields: image, background or backgroundId, model, outputs, compositeColor, align)'),
    multipartFiles(['image', 'background'], ctx.maxUploadBytes),
    async (req, res) => {
      // Cheap checks first, so a bad request fails before any pixels are decoded.
      const names: (keyof MatteFields)[] = ['backgroundId', 'model', 'outputs', 'compositeColor', 'align'];
      const fields = parseWire(MatteFieldsSchema, Object.fromEntries(names.map((name) => [name, textField(req, name)])));
      const wanted = fields.outputs ?? ['alpha'];
      const outputs = MATTE_OUTPUTS.filter((o) => wanted.includes(o));
      const compositeColor = parseHexColor(fields.compositeColor ?? DEFAULT_COMPOSITE_COLOR)!; // the schema checked the form
      const align = fields.align ?? DEFAULT_ALIGN_MODE;
      const model = fields.model;
      if (model !== undefined && !ctx.registry.entry(model)) {
        const known = ctx.registry
          .list()
          .map((m) => m.id)
          .join(', ');
        throw new HttpError(404, 'unknown_model', `unknown model "${model}"; known: ${known}`);
      }
      const imageFile = uploadedFile(req, 'image');
      if (!imageFile) throw new HttpError(400, 'missing_field', 'multipart file field "image" (the frame with the subject) is missing');
      const backgroundFile = uploadedFile(req, 'background');
      const backgroundId = fields.backgroundId;
      if (backgroundFile && backgroundId) throw new HttpError(400, 'bad_field', 'give either a "background" file or a "backgroundId", not both');

      // Sizes from the headers, then admission by memory: nothing is decoded before that.
      const size = await imageSize(imageFile.buffer, 'image');
      const release = await ctx.stillBudget.acquire(size.width * size.height);
      let result: Awaited<ReturnType<typeof matteStill>>;
      try {
        const image = await decodeImage(imageFile.buffer, 'image');
        let plate: Frame | undefined;
        if (backgroundFile) plate = await decodeImage(backgroundFile.buffer, 'background');
        else if (backgroundId) plate = await ctx.backgrounds.frame(backgroundId);
        result = await matteStill(ctx.matting, { image, ...(plate ? { plate } : {}), ...(model ? { model } : {}), outputs, compositeColor, align });
      } finally {
        release();
      }
      const body: MatteResponse = {
        model: result.model,
        provider: result.provider,
        width: result.width,
        height: result.height,
        ms: result.ms,
        outputs: Object.fromEntries(Object.entries(result.png).map(([k, png]) => [k, png.toString('base64')])),
        ...(result.align ? { align: result.align } : {}),
      };
      res.json(body);
    },
  );
  return router;
}
