// Redis for the farm: a redis:// or rediss:// (TLS) URL -> ioredis options for BullMQ, the
// queue each model version is served on, and the farm's own keys.
import type { RedisOptions } from 'ioredis';

/** BullMQ key prefix: every farm key starts with "cleanplate:". */
export const FARM_PREFIX = 'cleanplate';
/** Cancel messages (payload: farm id). */
export const CANCEL_CHANNEL = 'cleanplate:farm:cancel';
export const cancelledKey = (farmId: string): string => `cleanplate:farm:cancelled:${farmId}`;
/** Hash: worker name -> JSON {models: [{id, sha256}], engineVersion, seen}. */
export const WORKERS_KEY = 'cleanplate:farm:workers';

export class FarmConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'FarmConfigError';
  }
}

/** Parses a Redis URL. Password (AUTH) and user (ACL) come from the URL; rediss:// turns TLS on. */
export function redisOptions(url: string): RedisOptions & { host: string; port: number } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FarmConfigError(`not a Redis URL: "${url}" (expected redis://HOST:PORT or rediss://HOST:PORT)`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') throw new FarmConfigError(`Redis URL must start with redis:// or rediss://, got "${u.protocol}//"`);
  if (!u.hostname) throw new FarmConfigError(`Redis URL "${url}" names no host`);
  const port = u.port ? Number(u.port) : 6379;
  const db = u.pathname && u.pathname !== '/' ? Number(u.pathname.slice(1)) : 0;
  if (!Number.isInteger(db) || db < 0) throw new FarmConfigError(`Redis URL "${url}": database must be a number`);
  return {
    host: u.hostname.replace(/^\[|\]$/g, ''),
    port,
    db,
    ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
    ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
    ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    // BullMQ workers block on Redis: commands must wait for a reconnect instead of failing.
    maxRetriesPerRequest: null,
  };
}

/** The URL without its password, for logs and reports. */
export function redactRedisUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(bad url)';
  }
}

/** One queue per model identity key (model file, settings, engine version): a worker only ever sees segments it renders identically. */
export function queueName(modelId: string, identityKey: string): string {
  return `segments-${modelId}-${identityKey}`;
}
