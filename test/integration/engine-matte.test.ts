// POST /v1/matte over real HTTP with the real plate model on onnxruntime: each output kind, plates
// uploaded or stored, concurrent requests, and every kind of bad input -> 4xx JSON, engine alive.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Background, MatteResponse } from '../../src/shared/api.js';
import { errorOf, form, startTestEngine, type TestEngine } from '../support/engine.js';
import { bmp, corruptPng, decodeRaw, meanIn, pngClaimingSize, texturedPlate, toPng, truncate, withSquare } from '../support/images.js';

const W = 160;
const H = 96;
const SQUARE = { x: 50, y: 24, size: 48, color: [235, 40, 200] as const };
/** Well inside the square, and far from it: where the matte must be clearly 1 and clearly 0. */
const INSIDE = { x: SQUARE.x + 8, y: SQUARE.y + 8, w: SQUARE.size - 16, h: SQUARE.size - 16 };
const OUTSIDE = { x: 120, y: 4, w: 36, h: 30 };

let t: TestEngine;
let platePng: Buffer;
let imagePng: Buffer;
let storedPlate: Background;

beforeAll(async () => {
  t = await startTestEngine();
  const plate = texturedPlate(W, H, 3);
  platePng = await toPng(plate);
  imagePng = await toPng(withSquare(plate, SQUARE));
  const res = await t.api('/v1/backgrounds', { method: 'POST', body: form({ image: { bytes: platePng } }) });
  storedPlate = (await res.json()) as Background;
});
afterAll(async () => {
  await t.stop();
});
afterEach(async () => {
  expect((await t.api('/v1/health')).status).toBe(200);
});

async function matte(fields: Parameters<typeof form>[0]): Promise<Response> {
  return t.api('/v1/matte', { method: 'POST', body: form(fields) });
}

async function matteOk(fields: Parameters<typeof form>[0]): Promise<MatteResponse> {
  const res = await matte(fields);
  if (res.status !== 200) throw new Error(`matte failed: ${res.status} ${await res.text()}`);
  return (await res.json()) as MatteResponse;
}

async function output(body: MatteResponse, kind: keyof MatteResponse['outputs']) {
  const b64 = body.outputs[kind];
  if (!b64) throw new Error(`no ${kind} output`);
  return decodeRaw(Buffer.from(b64, 'base64'));
}

describe('matte', () => {
  it('returns a greyscale alpha PNG by default: subject opaque, background transparent', async () => {
    const body = await matteOk({ image: { bytes: imagePng }, background: { bytes: platePng } });
    expect(body).toMatchObject({ model: 'plate', width: W, height: H });
    expect(typeof body.provider).toBe('string');
    expect(body.ms).toBeGreaterThan(0);
    expect(Object.keys(body.outputs)).toEqual(['alpha']);
    const alpha = await output(body, 'alpha');
    expect([alpha.width, alpha.height, alpha.channels]).toEqual([W, H, 1]);
    expect(meanIn(alpha, INSIDE)).toBeGreaterThan(240);
    expect(meanIn(alpha, OUTSIDE)).toBeLessThan(10);
  });

  it('uses a stored plate by backgroundId the same way', async () => {
    const body = await matteOk({ image: { bytes: imagePng }, backgroundId: storedPlate.id, outputs: 'alpha' });
    const alpha = await output(body, 'alpha');
    expect(meanIn(alpha, INSIDE)).toBeGreaterThan(240);
    expect(meanIn(alpha, OUTSIDE)).toBeLessThan(10);
  });

  it('returns an RGBA foreground: subject colours inside, transparent outside', async () => {
    const body = await matteOk({ image: { bytes: imagePng }, backgroundId: storedPlate.id, outputs: 'foreground' });
    expect(Object.keys(body.outputs)).toEqual(['foreground']);
    const fg = await output(body, 'foreground');
    expect([fg.width, fg.height, fg.channels]).toEqual([W, H, 4]);
    expect(meanIn(fg, INSIDE, 3)).toBeGreaterThan(240);
    expect(meanIn(fg, OUTSIDE, 3)).toBeLessThan(10);
    for (const c of [0, 1, 2]) expect(Math.abs(meanIn(fg, INSIDE, c) - SQUARE.color[c]!)).toBeLessThan(12);
  });

  it('returns a composite over the requested colour', async () => {
    const body = await matteOk({ image: { bytes: imagePng }, background: { bytes: platePng }, outputs: 'composite', compositeColor: '#1020f0' });
    const comp = await output(body, 'composite');
    expect([comp.width, comp.height, comp.channels]).toEqual([W, H, 3]);
    [0x10, 0x20, 0xf0].forEach((v, c) => expect(Math.abs(meanIn(comp, OUTSIDE, c) - v)).toBeLessThan(12));
    for (const c of [0, 1, 2]) expect(Math.abs(meanIn(comp, INSIDE, c) - SQUARE.color[c]!)).toBeLessThan(12);
  });

  it('composites over green by default and returns every output asked for, consistently', async () => {
    const body = await matteOk({ image: { bytes: imagePng }, backgroundId: storedPlate.id, outputs: 'composite, alpha,foreground' });
    expect(Object.keys(body.outputs).sort()).toEqual(['alpha', 'composite', 'foreground']);
    const [alpha, fg, comp] = await Promise.all([output(body, 'alpha'), output(body, 'foreground'), output(body, 'composite')]);
    expect(meanIn(comp, OUTSIDE, 1)).toBeGreaterThan(240);
    expect(meanIn(comp, OUTSIDE, 0)).toBeLessThan(12);
    // The foreground's alpha channel is the alpha output.
    let maxDiff = 0;
    for (let i = 0; i < W * H; i++) maxDiff = Math.max(maxDiff, Math.abs(alpha.data[i]! - fg.data[i * 4 + 3]!));
    expect(maxDiff).toBeLessThanOrEqual(1);
  });

  it('accepts a JPEG frame and plate (lossy input still separates subject from plate)', async () => {
    const sharp = (await import('sharp')).default;
    const jpeg = (png: Buffer) => sharp(png).jpeg({ quality: 92 }).toBuffer();
    const body = await matteOk({ image: { bytes: await jpeg(imagePng), name: 'f.jpg' }, background: { bytes: await jpeg(platePng), name: 'p.jpg' } });
    const alpha = await output(body, 'alpha');
    expect(meanIn(alpha, INSIDE)).toBeGreaterThan(230);
    expect(meanIn(alpha, OUTSIDE)).toBeLessThan(20);
  });

  it('serves concurrent requests on one model session correctly', async () => {
    const bodies = await Promise.all(Array.from({ length: 4 }, () => matteOk({ image: { bytes: imagePng }, backgroundId: storedPlate.id })));
    const alphas = await Promise.all(bodies.map((b) => output(b, 'alpha')));
    for (const a of alphas) expect(Buffer.compare(a.data, alphas[0]!.data)).toBe(0);
    expect(meanIn(alphas[0]!, INSIDE)).toBeGreaterThan(240);
  });
});

describe('bad matte requests', () => {
  const small = () => toPng(texturedPlate(64, 48));
  const img = (bytes: Uint8Array, name = 'frame.png') => ({ bytes, name });
  const cases: [string, () => Promise<Response>, number, string][] = [
    ['zero-byte image', async () => matte({ image: img(new Uint8Array(0)), background: img(platePng) }), 400, 'bad_image'],
    ['truncated PNG image', async () => matte({ image: img(truncate(imagePng)), background: img(platePng) }), 400, 'bad_image'],
    ['corrupt image bytes', async () => matte({ image: img(corruptPng(imagePng)), background: img(platePng) }), 400, 'bad_image'],
    ['truncated plate', async () => matte({ image: img(imagePng), background: img(truncate(platePng, 0.7)) }), 400, 'bad_image'],
    ['a text file as image', async () => matte({ image: img(Buffer.from('GIF? no, just text'), 'a.txt'), background: img(platePng) }), 415, 'unsupported_format'],
    ['a BMP as image', async () => matte({ image: img(bmp(W, H), 'a.bmp'), background: img(platePng) }), 415, 'unsupported_format'],
    [
      'an SVG as image',
      async () => matte({ image: img(Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"/>'), 'a.svg'), background: img(platePng) }),
      415,
      'unsupported_format',
    ],
    ['a plate of another size', async () => matte({ image: img(imagePng), background: img(await small()) }), 422, 'plate_size_mismatch'],
    ['absurd image dimensions', async () => matte({ image: img(pngClaimingSize(100_000, 100_000)), background: img(platePng) }), 413, 'image_too_large'],
    ['absurd plate dimensions', async () => matte({ image: img(imagePng), background: img(pngClaimingSize(50_000, 20)) }), 413, 'image_too_large'],
    ['a 8x8 image', async () => matte({ image: img(await toPng(texturedPlate(8, 8))), background: img(await toPng(texturedPlate(8, 8))) }), 422, 'image_too_small'],
    ['no image field', async () => matte({ background: img(platePng) }), 400, 'missing_field'],
    ['no plate for a model that needs one', async () => matte({ image: img(imagePng) }), 400, 'plate_required'],
    ['both a plate file and a backgroundId', async () => matte({ image: img(imagePng), background: img(platePng), backgroundId: storedPlate.id }), 400, 'bad_field'],
    ['an unknown background id', async () => matte({ image: img(imagePng), backgroundId: 'ffffffffffffffffffffffff' }), 404, 'unknown_background'],
    ['a malformed background id', async () => matte({ image: img(imagePng), backgroundId: '../../etc/passwd' }), 404, 'unknown_background'],
    ['an unknown model', async () => matte({ image: img(imagePng), background: img(platePng), model: 'no-such-model' }), 404, 'unknown_model'],
    ['an unknown output kind', async () => matte({ image: img(imagePng), background: img(platePng), outputs: 'alpha,depth' }), 400, 'bad_field'],
    ['an empty outputs list', async () => matte({ image: img(imagePng), background: img(platePng), outputs: ' , ' }), 400, 'bad_field'],
    ['a bad composite colour', async () => matte({ image: img(imagePng), background: img(platePng), outputs: 'composite', compositeColor: 'green' }), 400, 'bad_field'],
    [
      'a repeated text field',
      async () => {
        const fd = form({ image: img(imagePng), background: img(platePng) });
        fd.append('outputs', 'alpha');
        fd.append('outputs', 'composite');
        return t.api('/v1/matte', { method: 'POST', body: fd });
      },
      400,
      'bad_field',
    ],
    ['an unexpected file field', async () => matte({ image: img(imagePng), background: img(platePng), extra: img(platePng) }), 400, 'bad_field'],
    ['a JSON body', async () => t.api('/v1/matte', { method: 'POST', body: '{"image":"x"}', headers: { 'content-type': 'application/json' } }), 415, 'unsupported_media_type'],
    ['no body at all', async () => t.api('/v1/matte', { method: 'POST' }), 415, 'unsupported_media_type'],
    [
      'a multipart body cut off mid-file',
      async () => {
        const boundary = 'cleanplate-test-boundary';
        const head = `--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="f.png"\r\nContent-Type: image/png\r\n\r\n`;
        const body = Buffer.concat([Buffer.from(head), imagePng.subarray(0, 300)]);
        return t.api('/v1/matte', { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } });
      },
      400,
      'bad_request',
    ],
  ];
  it.each(cases.map(([name, send, status, code]) => ({ name, send, status, code })))('$name -> $status $code', async ({ send, status, code }) => {
    const res = await send();
    const err = await errorOf(res);
    expect({ status: res.status, code: err.code }).toEqual({ status, code });
  });

  it('answers a listed model whose file is missing with 409 model_unavailable', async () => {
    const modelsDir = await mkdtemp(path.join(os.tmpdir(), 'cleanplate-models-'));
    const manifest = {
      models: [
        { id: 'plate', kind: 'plate', default: true, file: null, sha256: null, licence: 'MIT', source: 'built in', settings: {} },
        { id: 'not-fetched', kind: 'bgmv2', file: 'not-fetched.onnx', sha256: null, licence: 'MIT', source: 'test', settings: {} },
      ],
    };
    await writeFile(path.join(modelsDir, 'manifest.json'), JSON.stringify(manifest));
    const other = await startTestEngine({ modelsDir, warmUp: false });
    try {
      const res = await other.api('/v1/matte', { method: 'POST', body: form({ image: img(imagePng), background: img(platePng), model: 'not-fetched' }) });
      const err = await errorOf(res);
      expect({ status: res.status, code: err.code }).toEqual({ status: 409, code: 'model_unavailable' });
      expect(err.message).toMatch(/not-fetched\.onnx is missing/);
      expect((await other.api('/v1/health')).status).toBe(200);
    } finally {
      await other.stop();
      await rm(modelsDir, { recursive: true, force: true });
    }
  });

  it('names both sizes when plate and image differ', async () => {
    const err = await errorOf(await matte({ image: img(imagePng), background: img(await small()) }));
    expect(err.message).toContain(`${W}x${H}`);
    expect(err.message).toContain('64x48');
  });
});
