// Stored clean plates over real HTTP: upload (multipart and raw body), list, read, image, delete,
// files on disk, and bad uploads answered with 4xx JSON while the engine keeps serving.
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Background, BackgroundList, BackgroundRecord } from '../../src/shared/api.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { bmp, corruptPng, decodeRaw, pngClaimingSize, texturedPlate, toJpeg, toPng, truncate } from '../support/images.js';

let t: TestEngine;
beforeAll(async () => {
  t = await startTestEngine();
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  expect((await t.api('/v1/health')).status).toBe(200);
});

async function upload(bytes: Uint8Array, name = 'plate.png'): Promise<Response> {
  return t.api('/v1/backgrounds', { method: 'POST', body: form({ image: { bytes, name, type: 'image/png' } }) });
}

describe('backgrounds', () => {
  it('stores an uploaded plate losslessly and lists, reads and deletes it', async () => {
    const plate = texturedPlate(96, 64, 7);
    const res = await upload(await toPng(plate), 'studio plate.png');
    expect(res.status).toBe(201);
    const bg = (await res.json()) as Background;
    expect(bg).toEqual({ id: expect.stringMatching(/^[0-9a-f]{24}$/), width: 96, height: 64 });

    const record = (await (await t.api(`/v1/backgrounds/${bg.id}`)).json()) as BackgroundRecord;
    expect(record).toMatchObject({ id: bg.id, width: 96, height: 64, source: { kind: 'upload', filename: 'studio plate.png' } });
    expect(Date.now() - Date.parse(record.createdAt)).toBeLessThan(60_000);

    const list = (await (await t.api('/v1/backgrounds')).json()) as BackgroundList;
    expect(list.backgrounds.map((b) => b.id)).toContain(bg.id);

    const image = await t.api(`/v1/backgrounds/${bg.id}/image`);
    expect(image.headers.get('content-type')).toBe('image/png');
    const stored = await decodeRaw(new Uint8Array(await image.arrayBuffer()));
    expect([stored.width, stored.height, stored.channels]).toEqual([96, 64, 3]);
    expect(Buffer.compare(stored.data, Buffer.from(plate.data))).toBe(0); // lossless

    const files = await readdir(path.join(t.dataDir, 'backgrounds'));
    expect(files.sort()).toEqual(expect.arrayContaining([`${bg.id}.json`, `${bg.id}.png`]));
    expect(files.filter((f) => f.includes('.tmp'))).toEqual([]);

    const del = await t.api(`/v1/backgrounds/${bg.id}`, { method: 'DELETE' });
    expect(del.status).toBe(204);
    expect((await readdir(path.join(t.dataDir, 'backgrounds'))).filter((f) => f.startsWith(bg.id))).toEqual([]);
    for (const route of [`/v1/backgrounds/${bg.id}`, `/v1/backgrounds/${bg.id}/image`]) {
      const gone = await t.api(route);
      expect(gone.status).toBe(404);
      expect((await errorOf(gone)).code).toBe('unknown_background');
    }
    const again = await t.api(`/v1/backgrounds/${bg.id}`, { method: 'DELETE' });
    expect(again.status).toBe(404);
    const after = (await (await t.api('/v1/backgrounds')).json()) as BackgroundList;
    expect(after.backgrounds.map((b) => b.id)).not.toContain(bg.id);
  });

  it('takes a raw image/* body too', async () => {
    const res = await t.api('/v1/backgrounds', { method: 'POST', body: await toJpeg(texturedPlate(80, 48)), headers: { 'content-type': 'image/jpeg' } });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ width: 80, height: 48 });
  });

  it('applies EXIF orientation, so the plate matches what the camera showed', async () => {
    // A 64x32 JPEG tagged "rotate 90° clockwise" is a 32x64 picture.
    const jpeg = await sharp(Buffer.from(texturedPlate(64, 32).data), { raw: { width: 64, height: 32, channels: 3 } })
      .jpeg()
      .withMetadata({ orientation: 6 })
      .toBuffer();
    const res = await upload(jpeg, 'rotated.jpg');
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ width: 32, height: 64 });
  });

  it('treats malformed ids as unknown backgrounds (no path tricks)', async () => {
    for (const id of ['nope', '..%2F..%2Fengine', '0123456789abcdef01234567x']) {
      const res = await t.api(`/v1/backgrounds/${id}`);
      expect(res.status, id).toBe(404);
      expect((await errorOf(res)).code).toBe('unknown_background');
    }
  });
});

describe('stored records', () => {
  it('a record that is not one the engine wrote is left out of the list; the others still list', async () => {
    const good = (await (await upload(await toPng(texturedPlate(32, 24)))).json()) as Background;
    const dir = path.join(t.dataDir, 'backgrounds');
    await writeFile(path.join(dir, 'aaaaaaaaaaaaaaaaaaaaaaaa.json'), JSON.stringify({ id: 'aaaaaaaaaaaaaaaaaaaaaaaa', width: 32 }));
    await writeFile(path.join(dir, 'bbbbbbbbbbbbbbbbbbbbbbbb.json'), '{"id": "bbbb');
    const res = await t.api('/v1/backgrounds');
    expect(res.status).toBe(200);
    const ids = ((await res.json()) as BackgroundList).backgrounds.map((b) => b.id);
    expect(ids).toContain(good.id);
    expect(ids).not.toContain('aaaaaaaaaaaaaaaaaaaaaaaa');
  });
});

describe('bad background uploads', () => {
  const valid = () => toPng(texturedPlate(64, 48));
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['zero-byte file', async () => upload(new Uint8Array(0)), 400, 'bad_image'],
    ['truncated PNG', async () => upload(truncate(await valid())), 400, 'bad_image'],
    ['corrupt bytes', async () => upload(corruptPng(await valid())), 400, 'bad_image'],
    ['a text file', async () => upload(Buffer.from('this is not an image\n'), 'notes.txt'), 415, 'unsupported_format'],
    ['a BMP', async () => upload(bmp(32, 32), 'plate.bmp'), 415, 'unsupported_format'],
    ['absurd dimensions', async () => upload(pngClaimingSize(100_000, 100_000)), 413, 'image_too_large'],
    ['a 4x4 image', async () => upload(await toPng(texturedPlate(4, 4))), 422, 'image_too_small'],
    ['no image field', async () => t.api('/v1/backgrounds', { method: 'POST', body: form({ other: 'x' }) }), 400, 'missing_field'],
    ['a file under another field name', async () => t.api('/v1/backgrounds', { method: 'POST', body: form({ plate: { bytes: await valid() } }) }), 400, 'bad_field'],
    ['an empty raw body', async () => t.api('/v1/backgrounds', { method: 'POST', body: new Uint8Array(0), headers: { 'content-type': 'image/png' } }), 400, 'missing_field'],
    ['a text/plain body', async () => t.api('/v1/backgrounds', { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } }), 415, 'unsupported_media_type'],
  ];
  it.each(cases.map(([name, send, status, code]) => ({ name, send, status, code })))('$name -> $status $code', async ({ send, status, code }) => {
    const res = await send();
    expect(res.status).toBe(status);
    const err = await errorOf(res);
    expect(err.code).toBe(code);
  });

  it('stores nothing for refused uploads', async () => {
    const before = (await readdir(path.join(t.dataDir, 'backgrounds'))).length;
    await upload(truncate(await valid()));
    expect((await readdir(path.join(t.dataDir, 'backgrounds'))).length).toBe(before);
  });

  it('says what the size rule is when an image is too large', async () => {
    const err = await errorOf(await upload(pngClaimingSize(9000, 500)));
    expect(err.message).toMatch(/9000x500/);
    expect(err.message).toMatch(/8192x8192/);
  });
});

describe('upload size limit', () => {
  let small: TestEngine;
  beforeAll(async () => {
    small = await startTestEngine({ maxUploadBytes: 64 * 1024, warmUp: false });
  });
  afterAll(async () => {
    await small.stop();
  });

  it('answers uploads over the limit with 413 JSON, multipart and raw, and keeps serving', async () => {
    const big = Buffer.alloc(200 * 1024, 1);
    const multipart = await small.api('/v1/backgrounds', { method: 'POST', body: form({ image: { bytes: big } }) });
    expect(multipart.status).toBe(413);
    expect((await errorOf(multipart)).code).toBe('payload_too_large');
    const raw = await small.api('/v1/backgrounds', { method: 'POST', body: big, headers: { 'content-type': 'image/png' } });
    expect(raw.status).toBe(413);
    expect((await errorOf(raw)).code).toBe('payload_too_large');
    expect((await small.api('/v1/health')).status).toBe(200);
  });
});
