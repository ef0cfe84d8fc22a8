// Request bodies that carry images: multipart files (multer, in memory, capped) and raw image/*
// bodies. Files are held in memory because sharp decodes from a buffer anyway.
import express, { type RequestHandler } from 'express';
import multer from 'multer';
import { HttpError } from './errors.js';
import { messageOf } from '../../shared/error-message.js';

/**
 * A multipart parser for the named file fields (one file each) plus small text fields. Broken
 * bodies (cut off, bad boundaries) are the client's fault: 400, not the parser's raw error.
 */
export function multipartFiles(fields: readonly string[], maxFileBytes: number): RequestHandler {
  const parse = multer({
    storage: multer.memoryStorage(),
    limits: { fileSize: maxFileBytes, fields: 20, fieldSize: 64 * 1024, parts: fields.length + 20 },
  }).fields(fields.map((name) => ({ name, maxCount: 1 })));
  return (req, res, next) => {
    parse(req, res, (err?: unknown) => {
      if (err === undefined || err instanceof multer.MulterError) return next(err);
      const reason = messageOf(err);
      next(new HttpError(400, 'bad_request', `malformed multipart body: ${reason}`));
    });
  };
}

/** The uploaded file of a field, if any. */
export function uploadedFile(req: express.Request, field: string): Express.Multer.File | undefined {
  const files = req.files as Record<string, Express.Multer.File[] | undefined> | undefined;
  return files?.[field]?.[0];
}

/** A text field of a multipart body; a repeated field is an error rather than a silent pick. */
export function textField(req: express.Request, field: string): string | undefined {
  const value: unknown = (req.body as Record<string, unknown> | undefined)?.[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new HttpError(400, 'bad_field', `field "${field}" must be given once, as text`);
  return value;
}

/** A raw body for Content-Type image/* (e.g. `curl --data-binary @plate.png -H 'Content-Type: image/png'`). */
export function rawImageBody(maxBytes: number): RequestHandler {
  return express.raw({ type: 'image/*', limit: maxBytes });
}

/** Refuses a body whose Content-Type the route does not take, saying what it does take. */
export function requireContentType(types: readonly string[], what: string): RequestHandler {
  return (req, _res, next) => {
    if (req.is(types as string[])) return next();
    const got = req.headers['content-type'] ?? 'none';
    next(new HttpError(415, 'unsupported_media_type', `${req.method} ${req.baseUrl}${req.path} takes ${what}; got Content-Type ${got}`));
  };
}
