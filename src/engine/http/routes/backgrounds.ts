// Clean plates: store one (multipart field "image" or a raw image/* body), list, read, delete.
import path from 'node:path';
import { Router, type Request } from 'express';
import { BackgroundFromMediaSchema, parseWire, type Background, type BackgroundList, type BackgroundSource } from '../../../shared/api.js';
import type { Frame } from '../../frame.js';
import { decodeImage } from '../../media/image.js';
import { grabFrame } from '../../media/frame-grab.js';
import type { EngineContext } from '../context.js';
import { HttpError } from '../errors.js';
import { multipartFiles, rawImageBody, requireContentType, uploadedFile } from '../uploads.js';

/** A plate to store: decoded pixels plus where they came from. */
interface PlateInput {
  readonly frame: Frame;
  readonly source: BackgroundSource;
}

/** Reads the plate from an upload, or from a file on disk named in a JSON body ({mediaPath, timeSeconds}). */
async function plateFromRequest(req: Request, ctx: EngineContext): Promise<PlateInput> {
  if (req.is('application/json')) {
    const body = parseWire(BackgroundFromMediaSchema, req.body);
    const mediaPath = path.resolve(body.mediaPath);
    const timeSeconds = body.timeSeconds ?? 0;
    const grabbed = await grabFrame(await ctx.mediaTools(), mediaPath, timeSeconds);
    return { frame: grabbed.frame, source: { kind: 'media', mediaPath, timeSeconds, frameIndex: grabbed.frameIndex } };
  }
  if (req.is('multipart/form-data')) {
    const file = uploadedFile(req, 'image');
    if (!file) throw new HttpError(400, 'missing_field', 'multipart field "image" (the plate image file) is missing');
    const frame = await decodeImage(file.buffer, `background "${file.originalname}"`);
    return { frame, source: { kind: 'upload', ...(file.originalname ? { filename: file.originalname } : {}) } };
  }
  const body: unknown = req.body;
  if (!Buffer.isBuffer(body) || body.length === 0) throw new HttpError(400, 'missing_field', 'the request body (the plate image) is empty');
  return { frame: await decodeImage(body, 'background'), source: { kind: 'upload' } };
}

export function backgroundRoutes(ctx: EngineContext): Router {
  const router = Router();

  router.post(
    '/backgrounds',
    requireContentType(['multipart/form-data', 'image/*', 'application/json'], 'multipart/form-data with a file field "image", a raw image/* body, or JSON {mediaPath, timeSeconds}'),
    multipartFiles(['image'], ctx.maxUploadBytes),
    rawImageBody(ctx.maxUploadBytes),
    async (req, res) => {
      const { frame, source } = await plateFromRequest(req, ctx);
      const record = await ctx.backgrounds.add(frame, source);
      const body: Background = { id: record.id, width: record.width, height: record.height };
      res.status(201).json(body);
    },
  );

  router.get('/backgrounds', async (_req, res) => {
    const body: BackgroundList = { backgrounds: await ctx.backgrounds.list() };
    res.json(body);
  });

  router.get('/backgrounds/:id', async (req, res) => {
    res.json(await ctx.backgrounds.get(req.params.id));
  });

  router.get('/backgrounds/:id/image', async (req, res) => {
    const png = await ctx.backgrounds.png(req.params.id);
    res.type('image/png').setHeader('Cache-Control', 'no-store');
    res.send(png);
  });

  router.delete('/backgrounds/:id', async (req, res) => {
    await ctx.backgrounds.delete(req.params.id);
    res.status(204).end();
  });

  return router;
}
