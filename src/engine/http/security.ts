// The engine listens on loopback, but any web page the user opens can still send requests to
// 127.0.0.1. Three guards keep those out: the Host check (a DNS-rebinding page sends its own
// host name), CORS only for the panel and the engine's own pages, and the bearer token.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { RequestHandler } from 'express';
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
 * Origins allowed to read responses: `null` and file:// (the CEP panel's pages) and the engine's
 * own origin on any loopback name. `port` is read per request: it is known only after listen.
 */
export function isAllowedOrigin(origin: string, port: number): boolean {
  if (origin === 'null' || origin.startsWith('file://')) return true;
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`, `http://[::1]:${port}`].includes(origin.toLowerCase());
}

export function cors(port: () => number): RequestHandler {
  return (req, res, next) => {
    const origin = req.headers.origin;
    const preflight = req.method === 'OPTIONS' && origin !== undefined && req.headers['access-control-request-method'] !== undefined;
    if (origin === undefined || !isAllowedOrigin(origin, port())) {
      if (preflight) return sendError(res, 403, 'cors_refused', `origin ${origin} may not call the engine`);
      return next(); // no CORS headers: a browser will not let a foreign page read the answer
    }
    res.setHeader('Access-Control-Allow-Origin', origin);
    res.vary('Origin');
    if (!preflight) return next();
    res.setHeader('Access-Control-Allow-Methods', 'GET, POST, PUT, PATCH, DELETE, OPTIONS');
    res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type');
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text).digest();
}

/** Bearer token check in constant time (digests make the lengths equal). */
export function requireToken(token: string): RequestHandler {
  const expected = digest(token);
  return (req, res, next) => {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(req.headers.authorization ?? '');
    if (match && timingSafeEqual(digest(match[1]!), expected)) return next();
    res.setHeader('WWW-Authenticate', 'Bearer realm="cleanplate"');
    sendError(
      res,
      401,
      'unauthorized',
      match ? 'wrong bearer token (the engine makes a new one at every start: re-read engine.json)' : 'missing "Authorization: Bearer <token>" header (the token is in engine.json)',
    );
  };
}
