// Farm pure parts: path mapping between machines that mount one share at different paths,
// frame-exact segment plans with warm-up, Redis URLs, and failure codes across the queue.
import { describe, expect, it } from 'vitest';
import { mapPath, parsePathMap, PathMapError, reverseRules } from '../../src/engine/farm/path-map.js';
import { planSegments } from '../../src/engine/farm/segments.js';
import { FarmConfigError, queueName, redactRedisUrl, redisOptions } from '../../src/engine/farm/connection.js';
import { decodeFailure, encodeFailure } from '../../src/engine/farm/task.js';
import { farmSettingsFromEnv } from '../../src/engine/farm/settings.js';

describe('path mapping', () => {
  const rules = parsePathMap('S:\\=/mnt/share; /Volumes/Media=/srv/media ;/Volumes/Media/Interviews=/mnt/interviews');

  it('maps a Windows drive letter to a Linux mount, case-insensitively, with either slash', () => {
    expect(mapPath('S:\\Footage\\Day 1\\take 3.mov', rules)).toBe('/mnt/share/Footage/Day 1/take 3.mov');
    expect(mapPath('s:/Footage/a.mov', rules)).toBe('/mnt/share/Footage/a.mov');
  });

  it('takes the longest matching prefix and matches only whole path components', () => {
    expect(mapPath('/Volumes/Media/Interviews/a.mov', rules)).toBe('/mnt/interviews/a.mov');
    expect(mapPath('/Volumes/Media/b.mov', rules)).toBe('/srv/media/b.mov');
    expect(mapPath('/Volumes/MediaOld/b.mov', rules)).toBe('/Volumes/MediaOld/b.mov');
    expect(mapPath('/home/x/b.mov', rules)).toBe('/home/x/b.mov');
    // Posix prefixes are case-sensitive.
    expect(mapPath('/volumes/media/b.mov', rules)).toBe('/volumes/media/b.mov');
  });

  it('maps Linux paths to a Windows share with backslashes, and back', () => {
    const toWin = parsePathMap('/mnt/share=\\\\nas\\share');
    expect(mapPath('/mnt/share/Footage/a.mov', toWin)).toBe('\\\\nas\\share\\Footage\\a.mov');
    expect(mapPath('\\\\NAS\\share\\Footage\\a.mov', reverseRules(toWin))).toBe('/mnt/share/Footage/a.mov');
    expect(mapPath('/mnt/share', toWin)).toBe('\\\\nas\\share');
  });

  it('refuses a rule without FROM=TO and ignores empty text', () => {
    expect(() => parsePathMap('S:\\')).toThrow(PathMapError);
    expect(() => parsePathMap('=/mnt')).toThrow(/FROM=TO/);
    expect(parsePathMap('')).toEqual([]);
    expect(parsePathMap(undefined)).toEqual([]);
  });
});

describe('segment plans', () => {
  it('covers the span exactly once, in order, lengths differing by at most one frame', () => {
    const segs = planSegments({ first: 10, count: 100 }, 30, 0);
    expect(segs.map((s) => s.count)).toEqual([25, 25, 25, 25]);
    let next = 10;
    for (const s of segs) {
      expect(s.first).toBe(next);
      next += s.count;
    }
    expect(next).toBe(110);
    expect(planSegments({ first: 0, count: 7 }, 3, 0).map((s) => s.count)).toEqual([3, 2, 2]);
    expect(planSegments({ first: 0, count: 5 }, 100, 0)).toEqual([{ index: 0, first: 0, count: 5, warmUp: 0 }]);
  });

  it('warms every segment but the first, never reaching before the job start', () => {
    const segs = planSegments({ first: 50, count: 12 }, 4, 6);
    expect(segs.map((s) => s.warmUp)).toEqual([0, 4, 6]);
  });

  it('refuses nonsense lengths', () => {
    expect(() => planSegments({ first: 0, count: 5 }, 0, 0)).toThrow(/segment length/);
    expect(() => planSegments({ first: 0, count: 5 }, 2, -1)).toThrow(/warm-up/);
  });
});

describe('redis settings', () => {
  it('parses redis:// and rediss:// URLs with AUTH and a database', () => {
    expect(redisOptions('redis://127.0.0.1:6390')).toMatchObject({ host: '127.0.0.1', port: 6390, db: 0, maxRetriesPerRequest: null });
    const tls = redisOptions('rediss://farm:s%3Acret@redis.studio.lan/2');
    expect(tls).toMatchObject({ host: 'redis.studio.lan', port: 6379, db: 2, username: 'farm', password: 's:cret', tls: {} });
    expect(redactRedisUrl('redis://:secret@h:1')).not.toContain('secret');
  });

  it('refuses what is not a Redis URL', () => {
    expect(() => redisOptions('http://h:1')).toThrow(FarmConfigError);
    expect(() => redisOptions('nonsense')).toThrow(/not a Redis URL/);
    expect(() => farmSettingsFromEnv({ CLEANPLATE_REDIS: 'redis://h:1', CLEANPLATE_FARM_SEGMENT_FRAMES: '0' })).toThrow(/SEGMENT_FRAMES/);
    expect(farmSettingsFromEnv({})).toBeUndefined();
  });

  it('names queues BullMQ accepts (no colon), one per model identity key', () => {
    const a = queueName('rvm', '0123456789abcdef');
    expect(a).not.toBe(queueName('rvm', 'fedcba9876543210'));
    expect(a).not.toBe(queueName('fused', '0123456789abcdef'));
    expect(a).not.toContain(':');
  });

  it('keeps error codes across the queue', () => {
    const e = decodeFailure(encodeFailure('path_not_visible', 'worker "w" cannot read /x'));
    expect(e).toMatchObject({ code: 'path_not_visible', message: 'worker "w" cannot read /x' });
    expect(decodeFailure('boom')).toMatchObject({ code: 'farm_segment_failed', message: 'boom' });
    expect(decodeFailure('job stalled more than allowable limit', 3)).toMatchObject({ code: 'farm_worker_lost', message: expect.stringContaining('segment 3 was abandoned') });
  });
});
