// The engine listens on loopback, but any web page the user opens can still send requests to
// 127.0.0.1. Three guards keep those out: the Host check (a DNS-rebinding page sends its own
// host name), the bearer credential, and CORS only on the API, only for the panel's and the
// engine's own origins, and only on requests that carried the credential. See docs/security.md.
import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import type { Credentials } from '../auth/credentials.js';
import { sendError } from './errors.js';

const LOOPBACK_HOST = /^(?:127\.0\.0\.1|localhost|\[::1\])(?::\d{1,5})?$/i;

export function isLoopbackHost(host: string | undefined): boolean {
  return host !== undefined && LOOPBACK_HOST.test(host);
}

export const requireLoopbackHost: RequestHandler = (req, res, next) => {
  if (isLoopbackHost(req.headers.host)) return next();
  sendError(res, 403, 'forbidden_host', 'the engine only answers requests addressed to 127.0.0.1, localhost or [::1]');
};

/**
 * Origins allowed to read API responses: `null` and file:// (the CEP panel's pages) and the
 * engine's own origin on any loopback name. `port` is read per request: it is known only after
 * listen. A sandboxed iframe on any site also sends `Origin: null`, so an allowed origin gets
 * CORS headers only on requests that carried a valid credential (allowOriginIfAuthed).
 */
export function isAllowedOrigin(origin: string, port: number): boolean {
  if (origin === 'null' || origin.startsWith('file://')) return true;
  return isOwnOrigin(origin, port);
}

export function isOwnOrigin(origin: string, port: number): boolean {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`].includes(origin.toLowerCase());
}

/**
 * Preflights for the API (mounted before the credential check: browsers send preflights without
 * one). A preflight answer carries no data, only which methods and headers may follow.
 */
export function corsPreflight(port: () => number): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (!preflight) return next();
    if (!isAllowedOrigin(origin, port())) return sendError(res, 403, 'cors_refused', `origin ${origin} may not call the engine`);
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.vary('Origin');
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}

/** Mounted after requireCredential: lets an allowed origin read the answer to an authed request. */
export function allowOriginIfAuthed(port: () => number): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    res.vary('Origin');
    if (origin !== undefined && isAllowedOrigin(origin, port())) res.setHeader('Access-Control-Allow-Origin', origin);
    next();
  };
}

/** The bearer secret of a request, if it carries one. */
export function bearerOf(req: IncomingMessage): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '')?.[1];
}

/** Bearer check (token or panel key) in constant time. */
export function requireCredential(credentials: Credentials): RequestHandler {
  return (req, res, next) => {
    const offered = bearerOf(req);
    if (credentials.accepts(offered)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="cleanplate"');
    sendError(
      res,
      401,
      'unauthorized',
      offered
        ? 'wrong bearer credential (the token changes at every engine start: re-read engine.json; a panel key may have been rotated)'
        : 'missing "Authorization: Bearer <token>" header (the token is in engine.json; panels use the panel key)',
    );
  };
}
