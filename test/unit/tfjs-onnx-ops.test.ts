// The TFJS -> ONNX converter, op by op: each test hand-builds a small TF graph, converts it, runs
// it in onnxruntime and compares with values computed here by TF's definition of the op.
import { describe, expect, it } from 'vitest';
import { tfjsToOnnx } from '../../src/engine/models/tfjs-onnx/convert.js';
import { readWeights, TfjsFormatError } from '../../src/engine/models/tfjs-onnx/model-json.js';
import { attr, noise, runOnnx, TfGraph } from '../support/tfjs-graph.js';

type Arr = number[];

function maxDiff(a: Arr, b: Arr): number {
  expect(a.length).toBe(b.length);
  return a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i]!)), 0);
}

const idx4 = (d: number[], n: number, y: number, x: number, c: number) => ((n * d[1]! + y) * d[2]! + x) * d[3]! + c;

/** TF conv2d / depthwise_conv2d on NHWC, from the definition (SAME pads the extra pixel at the end). */
function convRef(x: Arr, xd: number[], w: Arr, wd: number[], o: { stride: number; dilation: number; padding: 'SAME' | 'VALID'; depthwise: boolean }) {
  const [N, H, W, C] = xd as [number, number, number, number];
  const [kh, kw, cin, m] = wd as [number, number, number, number];
  const span = (k: number) => (k - 1) * o.dilation + 1;
  const outSize = (n: number, k: number) => (o.padding === 'SAME' ? Math.ceil(n / o.stride) : Math.ceil((n - span(k) + 1) / o.stride));
  const OH = outSize(H, kh);
  const OW = outSize(W, kw);
  const padTop = o.padding === 'SAME' ? Math.floor(Math.max((OH - 1) * o.stride + span(kh) - H, 0) / 2) : 0;
  const padLeft = o.padding === 'SAME' ? Math.floor(Math.max((OW - 1) * o.stride + span(kw) - W, 0) / 2) : 0;
  const OC = o.depthwise ? C * m : m;
  const out = new Array<number>(N * OH * OW * OC).fill(0);
  const od = [N, OH, OW, OC];
  for (let n = 0; n < N; n++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++)
        for (let oc = 0; oc < OC; oc++) {
          let s = 0;
          for (let ky = 0; ky < kh; ky++)
            for (let kx = 0; kx < kw; kx++) {
              const iy = oy * o.stride + ky * o.dilation - padTop;
              const ix = ox * o.stride + kx * o.dilation - padLeft;
              if (iy < 0 || ix < 0 || iy >= H || ix >= W) continue;
              if (o.depthwise) {
                const c = Math.floor(oc / m);
                s += x[idx4(xd, n, iy, ix, c)]! * w[((ky * kw + kx) * cin + c) * m + (oc % m)]!;
              } else {
                for (let c = 0; c < cin; c++) s += x[idx4(xd, n, iy, ix, c)]! * w[((ky * kw + kx) * cin + c) * m + oc]!;
              }
            }
          out[idx4(od, n, oy, ox, oc)] = s;
        }
  return { data: out, dims: od };
}

/** TF's resize_bilinear with half_pixel_centers, as its kernel computes it. */
function resizeRef(x: Arr, xd: number[], OH: number, OW: number): Arr {
  const [N, H, W, C] = xd as [number, number, number, number];
  const out: number[] = [];
  const weights = (o: number, inSize: number, outSize: number) => {
    const v = (o + 0.5) * (inSize / outSize) - 0.5;
    const f = Math.floor(v);
    return { lo: Math.max(f, 0), hi: Math.min(Math.ceil(v), inSize - 1), t: v - f };
  };
  for (let n = 0; n < N; n++)
    for (let y = 0; y < OH; y++)
      for (let xx = 0; xx < OW; xx++)
        for (let c = 0; c < C; c++) {
          const a = weights(y, H, OH);
          const b = weights(xx, W, OW);
          const at = (yy: number, xq: number) => x[idx4(xd, n, yy, xq, c)]!;
          const top = at(a.lo, b.lo) + (at(a.lo, b.hi) - at(a.lo, b.lo)) * b.t;
          const bottom = at(a.hi, b.lo) + (at(a.hi, b.hi) - at(a.hi, b.lo)) * b.t;
          out.push(top + (bottom - top) * a.t);
        }
  return out;
}

describe('tfjs -> onnx converter: elementwise and shape ops', () => {
  it('maps Add/AddV2/Sub/Mul/RealDiv/Minimum/Maximum/Square/Relu6/Sigmoid/Tanh with broadcasting', async () => {
    const t = new TfGraph();
    const a = t.placeholder('a', [2, 3]);
    const b = t.float('b', [3], [0.5, -2, 4]);
    const ops = ['Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Minimum', 'Maximum'];
    for (const op of ops) t.op(op, op, [a, b]);
    for (const op of ['Square', 'Relu6', 'Sigmoid', 'Tanh']) t.op(op, op, [a]);
    const av = [-7, -0.5, 0, 1.5, 3, 9];
    const s = await t.session(Object.fromEntries([...ops, 'Square', 'Relu6', 'Sigmoid', 'Tanh'].map((o) => [o, o])));
    const out = await runOnnx(s, { a: { data: av, dims: [2, 3] } });
    const bv = (i: number) => [0.5, -2, 4][i % 3]!;
    const expected: Record<string, (v: number, i: number) => number> = {
      Add: (v, i) => v + bv(i),
      AddV2: (v, i) => v + bv(i),
      Sub: (v, i) => v - bv(i),
      Mul: (v, i) => v * bv(i),
      RealDiv: (v, i) => v / bv(i),
      Minimum: (v, i) => Math.min(v, bv(i)),
      Maximum: (v, i) => Math.max(v, bv(i)),
      Square: (v) => v * v,
      Relu6: (v) => Math.min(6, Math.max(0, v)),
      Sigmoid: (v) => 1 / (1 + Math.exp(-v)),
      Tanh: (v) => Math.tanh(v),
    };
    for (const [name, f] of Object.entries(expected)) {
      expect(out[name]!.dims).toEqual([2, 3]);
      expect(maxDiff(out[name]!.data, av.map(f)), name).toBeLessThan(1e-6);
    }
  });

  it('maps Minimum/Maximum against a scalar constant (clip_by_value) on either side', async () => {
    const t = new TfGraph();
    const x = t.placeholder('x', [2, 3]);
    t.float('hi', [], [1]);
    t.float('lo', [], [0]);
    t.op('clipped', 'Maximum', [t.op('min', 'Minimum', [x, 'hi']), 'lo']);
    t.op('flipped', 'Minimum', ['lo', x]);
    const xv = [-2, -0.25, 0, 0.5, 1, 3];
    const out = await runOnnx(await t.session({ clipped: 'clipped', flipped: 'flipped' }), { x: { data: xv, dims: [2, 3] } });
    expect(out.clipped).toEqual({ data: [0, 0, 0, 0.5, 1, 1], dims: [2, 3] });
    expect(out.flipped).toEqual({ data: [-2, -0.25, 0, 0, 0, 0], dims: [2, 3] });
  });

  it('reads uint8-quantized constants as q * scale + min', async () => {
    const t = new TfGraph();
    const x = t.placeholder('x', [4]);
    const w = t.quantized('w', [4], [0, 1, 128, 255], -1.5, 0.0125);
    t.op('y', 'Mul', [x, w]);
    const out = await runOnnx(await t.session({ y: 'y' }), { x: { data: [1, 1, 1, 1], dims: [4] } });
    expect(
      maxDiff(
        out.y!.data,
        [0, 1, 128, 255].map((q) => Math.fround(q * 0.0125 - 1.5)),
      ),
    ).toBe(0);
  });

  it('computes shapes like TF: Shape, StridedSlice (shrink, masks, negative index), Pack, Cast, FloorMod, Sub on int32', async () => {
    const t = new TfGraph();
    const x = t.placeholder('x', [-1, -1, -1, 3]);
    const shape = t.op('shape', 'Shape', [x], { out_type: attr.type('DT_INT32'), T: attr.type('DT_FLOAT') });
    const one = (name: string, b: number) => {
      t.int(`${name}/b`, [1], [b]);
      t.int(`${name}/e`, [1], [b + 1]);
      t.int(`${name}/s`, [1], [1]);
      return t.op(name, 'StridedSlice', [shape, `${name}/b`, `${name}/e`, `${name}/s`], { shrink_axis_mask: attr.i(1), T: attr.type('DT_INT32') });
    };
    const h = one('h', 1);
    t.int('last/b', [1], [-1]);
    t.int('last/e', [1], [0]);
    t.int('last/s', [1], [1]);
    const c = t.op('last', 'StridedSlice', [shape, 'last/b', 'last/e', 'last/s'], { shrink_axis_mask: attr.i(1), T: attr.type('DT_INT32') });
    t.int('hw/b', [1], [1]);
    t.int('hw/e', [1], [3]);
    t.int('hw/s', [1], [1]);
    t.op('hw', 'StridedSlice', [shape, 'hw/b', 'hw/e', 'hw/s'], { T: attr.type('DT_INT32') });
    t.int('tail/b', [1], [2]);
    t.int('tail/e', [1], [0]);
    t.int('tail/s', [1], [1]);
    t.op('tail', 'StridedSlice', [shape, 'tail/b', 'tail/e', 'tail/s'], { end_mask: attr.i(1), T: attr.type('DT_INT32') });
    t.int('rev/b', [1], [0]);
    t.int('rev/e', [1], [0]);
    t.int('rev/s', [1], [-1]);
    t.op('rev', 'StridedSlice', [shape, 'rev/b', 'rev/e', 'rev/s'], { begin_mask: attr.i(1), end_mask: attr.i(1), T: attr.type('DT_INT32') });
    t.op('packed', 'Pack', [h, c], { axis: attr.i(0), N: attr.i(2), T: attr.type('DT_INT32') });
    t.int('four', [], [4]);
    t.op('mod', 'FloorMod', ['packed', 'four'], { T: attr.type('DT_INT32') });
    t.int('m3', [], [-3]);
    t.op('negmod', 'FloorMod', ['m3', 'four'], { T: attr.type('DT_INT32') });
    t.op('sub', 'Sub', ['four', 'mod'], { T: attr.type('DT_INT32') });
    t.op('halfh', 'Mul', [t.op('hf', 'Cast', [h], { SrcT: attr.type('DT_INT32'), DstT: attr.type('DT_FLOAT') }), t.float('half', [], [0.55])]);
    t.op('trunc', 'Cast', ['halfh'], { SrcT: attr.type('DT_FLOAT'), DstT: attr.type('DT_INT32') });
    const s = await t.session({ h: 'h', c: 'last', hw: 'hw', tail: 'tail', rev: 'rev', packed: 'packed', mod: 'mod', negmod: 'negmod', sub: 'sub', trunc: 'trunc' });
    const out = await runOnnx(s, { x: { data: new Array(1 * 7 * 5 * 3).fill(0), dims: [1, 7, 5, 3] } });
    expect(out.h).toEqual({ data: [7], dims: [] });
    expect(out.c).toEqual({ data: [3], dims: [] });
    expect(out.hw).toEqual({ data: [7, 5], dims: [2] });
    expect(out.tail).toEqual({ data: [5, 3], dims: [2] });
    expect(out.rev).toEqual({ data: [3, 5, 7, 1], dims: [4] });
    expect(out.packed).toEqual({ data: [7, 3], dims: [2] });
    expect(out.mod!.data).toEqual([3, 3]);
    expect(out.negmod!.data).toEqual([1]); // floored: -3 mod 4 = 1 (C's % would give -3)
    expect(out.sub!.data).toEqual([1, 1]);
    expect(out.trunc!.data).toEqual([3]); // 7 * 0.55 = 3.85 truncates toward zero
  });

  it('maps ConcatV2, Split, SplitV (with a -1 size), Mean (keep_dims), Pad, BroadcastTo, Slice (static and run-time sizes)', async () => {
    const t = new TfGraph();
    const x = t.placeholder('x', [1, 2, 3, 4]);
    const xv = noise(24, 3);
    t.int('axis', [], [-1]);
    t.op('cat', 'ConcatV2', [x, x, 'axis'], { N: attr.i(2) });
    t.op('split', 'Split', ['axis', x], { num_split: attr.i(2) });
    t.int('sizes', [2], [1, -1]);
    t.op('splitv', 'SplitV', [x, 'sizes', 'axis'], { num_split: attr.i(2) });
    t.int('hw', [2], [1, 2]);
    t.op('mean', 'Mean', [x, 'hw'], { keep_dims: attr.b(true) });
    t.int('pads', [4, 2], [0, 0, 1, 0, 0, 2, 0, 0]);
    t.op('pad', 'Pad', [x, 'pads']);
    const r = t.placeholder('r');
    t.int('target', [4], [1, 2, 3, 4]);
    t.op('bcast', 'BroadcastTo', [r, 'target']);
    t.int('begin', [4], [0, 1, 0, 1]);
    t.int('size', [4], [-1, 1, 2, -1]);
    t.op('slice', 'Slice', [x, 'begin', 'size']);
    const dynSize = t.op('dynsize', 'Pack', ['m1', t.int('one', [], [1]), t.int('two', [], [2]), 'm1'], { axis: attr.i(0), N: attr.i(4), T: attr.type('DT_INT32') });
    t.int('m1', [], [-1]);
    t.op('dslice', 'Slice', [x, 'begin', dynSize]);
    const s = await t.session({ cat: 'cat', s0: 'split', s1: 'split:1', v0: 'splitv', v1: 'splitv:1', mean: 'mean', pad: 'pad', bcast: 'bcast', slice: 'slice', dslice: 'dslice' });
    const out = await runOnnx(s, { x: { data: xv, dims: [1, 2, 3, 4] }, r: { data: [2.5], dims: [1, 1, 1, 1] } });
    const at = (y: number, xx: number, c: number) => xv[(y * 3 + xx) * 4 + c]!;
    const pick = (h: number, w: number, cs: number[], f: (y: number, x: number, c: number) => number) => {
      const o: number[] = [];
      for (let y = 0; y < h; y++) for (let xx = 0; xx < w; xx++) for (const c of cs) o.push(f(y, xx, c));
      return o;
    };
    expect(out.cat!.dims).toEqual([1, 2, 3, 8]);
    expect(
      maxDiff(
        out.cat!.data,
        pick(2, 3, [0, 1, 2, 3, 4, 5, 6, 7], (y, xx, c) => at(y, xx, c % 4)),
      ),
    ).toBe(0);
    expect(maxDiff(out.s1!.data, pick(2, 3, [2, 3], at))).toBe(0);
    expect(out.v0!.dims).toEqual([1, 2, 3, 1]);
    expect(maxDiff(out.v1!.data, pick(2, 3, [1, 2, 3], at))).toBe(0);
    expect(out.mean!.dims).toEqual([1, 1, 1, 4]);
    expect(
      maxDiff(
        out.mean!.data,
        [0, 1, 2, 3].map((c) => pick(2, 3, [c], at).reduce((a, b) => a + b) / 6),
      ),
    ).toBeLessThan(1e-6);
    expect(out.pad!.dims).toEqual([1, 3, 5, 4]);
    expect(
      maxDiff(
        out.pad!.data,
        pick(3, 5, [0, 1, 2, 3], (y, xx, c) => (y >= 1 && xx < 3 ? at(y - 1, xx, c) : 0)),
      ),
    ).toBe(0);
    expect(out.bcast).toEqual({ data: new Array(24).fill(2.5), dims: [1, 2, 3, 4] });
    expect(out.slice!.dims).toEqual([1, 1, 2, 3]);
    expect(
      maxDiff(
        out.slice!.data,
        pick(1, 2, [1, 2, 3], (y, xx, c) => at(y + 1, xx, c)),
      ),
    ).toBe(0);
    expect(out.dslice).toEqual(out.slice);
  });
});

describe('tfjs -> onnx converter: convolution, pooling, resize, dilation', () => {
  const X_DIMS = [1, 7, 9, 3];
  const xv = noise(7 * 9 * 3, 11);

  for (const c of [
    { name: 'Conv2D VALID stride 1', op: 'Conv2D', stride: 1, padding: 'VALID' as const, depthwise: false, k: [3, 3, 3, 4] },
    { name: 'Conv2D SAME stride 2 (odd size: TF pads the end)', op: 'Conv2D', stride: 2, padding: 'SAME' as const, depthwise: false, k: [3, 3, 3, 5] },
    { name: 'Conv2D 1x1', op: 'Conv2D', stride: 1, padding: 'VALID' as const, depthwise: false, k: [1, 1, 3, 2] },
    { name: 'DepthwiseConv2dNative multiplier 2 SAME stride 2', op: 'DepthwiseConv2dNative', stride: 2, padding: 'SAME' as const, depthwise: true, k: [3, 3, 3, 2] },
  ]) {
    it(`maps ${c.name}`, async () => {
      const t = new TfGraph();
      const wv = noise(
        c.k.reduce((a, b) => a * b),
        5,
      );
      t.placeholder('x', X_DIMS);
      t.float('w', c.k, wv);
      t.op('y', c.op, ['x', 'w'], { strides: attr.ints([1, c.stride, c.stride, 1]), padding: attr.s(c.padding), data_format: attr.s('NHWC'), dilations: attr.ints([1, 1, 1, 1]) });
      const out = await runOnnx(await t.session({ y: 'y' }), { x: { data: xv, dims: X_DIMS } });
      const ref = convRef(xv, X_DIMS, wv, c.k, { stride: c.stride, dilation: 1, padding: c.padding, depthwise: c.depthwise });
      expect(out.y!.dims).toEqual(ref.dims);
      expect(maxDiff(out.y!.data, ref.data)).toBeLessThan(1e-5);
    });
  }

  it('maps _FusedConv2D and FusedDepthwiseConv2dNative with BiasAdd and Relu', async () => {
    const t = new TfGraph();
    const k = [3, 3, 3, 4];
    const wv = noise(108, 9);
    const bias = [0.3, -0.2, 0.1, -0.9];
    t.placeholder('x', X_DIMS);
    t.float('w', k, wv);
    t.float('b', [4], bias);
    const base = { strides: attr.ints([1, 1, 1, 1]), padding: attr.s('SAME'), data_format: attr.s('NHWC'), num_args: attr.i(1), dilations: attr.ints([1, 1, 1, 1]) };
    t.op('conv', '_FusedConv2D', ['x', 'w', 'b'], { ...base, fused_ops: attr.strs(['BiasAdd', 'Relu']) });
    const dk = [3, 3, 3, 1];
    const dw = noise(27, 4);
    t.float('dw', dk, dw);
    t.float('db', [3], [1, 2, 3]);
    t.op('dconv', 'FusedDepthwiseConv2dNative', ['x', 'dw', 'db'], { ...base, fused_ops: attr.strs(['BiasAdd']) });
    const out = await runOnnx(await t.session({ conv: 'conv', dconv: 'dconv' }), { x: { data: xv, dims: X_DIMS } });
    const ref = convRef(xv, X_DIMS, wv, k, { stride: 1, dilation: 1, padding: 'SAME', depthwise: false });
    expect(
      maxDiff(
        out.conv!.data,
        ref.data.map((v, i) => Math.max(0, v + bias[i % 4]!)),
      ),
    ).toBeLessThan(1e-5);
    const dref = convRef(xv, X_DIMS, dw, dk, { stride: 1, dilation: 1, padding: 'SAME', depthwise: true });
    expect(
      maxDiff(
        out.dconv!.data,
        dref.data.map((v, i) => v + [1, 2, 3][i % 3]!),
      ),
    ).toBeLessThan(1e-5);
  });

  it('maps AvgPool SAME 2x2/2 on an odd size (the partial window averages only real pixels, as TF)', async () => {
    const t = new TfGraph();
    t.placeholder('x', X_DIMS);
    t.op('y', 'AvgPool', ['x'], { ksize: attr.ints([1, 2, 2, 1]), strides: attr.ints([1, 2, 2, 1]), padding: attr.s('SAME'), data_format: attr.s('NHWC') });
    const out = await runOnnx(await t.session({ y: 'y' }), { x: { data: xv, dims: X_DIMS } });
    expect(out.y!.dims).toEqual([1, 4, 5, 3]);
    const expected: number[] = [];
    for (let y = 0; y < 4; y++)
      for (let x = 0; x < 5; x++)
        for (let c = 0; c < 3; c++) {
          const vals: number[] = [];
          for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) if (2 * y + dy < 7 && 2 * x + dx < 9) vals.push(xv[idx4(X_DIMS, 0, 2 * y + dy, 2 * x + dx, c)]!);
          expected.push(vals.reduce((a, b) => a + b) / vals.length);
        }
    expect(maxDiff(out.y!.data, expected)).toBeLessThan(1e-6);
  });

  it('maps ResizeBilinear with half-pixel centres, up and down, to a run-time size', async () => {
    const t = new TfGraph();
    const x = t.placeholder('x', X_DIMS);
    t.int('up', [2], [16, 20]);
    t.op('y', 'ResizeBilinear', [x, 'up'], { half_pixel_centers: attr.b(true), align_corners: attr.b(false) });
    // A size computed from the input's shape, as RVM's decoder does (shape * 0.5 -> int).
    const shape = t.op('shape', 'Shape', [x], { out_type: attr.type('DT_INT32') });
    t.int('b', [1], [1]);
    t.int('e', [1], [3]);
    t.int('s', [1], [1]);
    const hw = t.op('hw', 'StridedSlice', [shape, 'b', 'e', 's'], { T: attr.type('DT_INT32') });
    const f = t.op('f', 'Cast', [hw], { SrcT: attr.type('DT_INT32'), DstT: attr.type('DT_FLOAT') });
    const size = t.op('size', 'Cast', [t.op('scaled', 'Mul', [f, t.float('half', [], [0.5])])], { SrcT: attr.type('DT_FLOAT'), DstT: attr.type('DT_INT32') });
    t.op('z', 'ResizeBilinear', [x, size], { half_pixel_centers: attr.b(true), align_corners: attr.b(false) });
    const out = await runOnnx(await t.session({ y: 'y', z: 'z' }), { x: { data: xv, dims: X_DIMS } });
    expect(out.y!.dims).toEqual([1, 16, 20, 3]);
    expect(maxDiff(out.y!.data, resizeRef(xv, X_DIMS, 16, 20))).toBeLessThan(1e-5);
    expect(out.z!.dims).toEqual([1, 3, 4, 3]);
    expect(maxDiff(out.z!.data, resizeRef(xv, X_DIMS, 3, 4))).toBeLessThan(1e-5);
  });

  it('maps a dilated depthwise conv lowered as SpaceToBatchND -> conv -> BatchToSpaceND (TF required paddings/crops)', async () => {
    const t = new TfGraph();
    const d = [1, 7, 9, 4];
    const xv4 = noise(7 * 9 * 4, 21);
    const k = [3, 3, 4, 1];
    const wv = noise(36, 2);
    t.placeholder('x', d);
    t.int('block', [2], [2, 2]);
    // As tf.nn.depthwise_conv2d with rate 2 on an odd size: pad to a multiple of the block, crop after.
    t.int('paddings', [2, 2], [0, 1, 0, 1]);
    t.int('crops', [2, 2], [0, 1, 0, 1]);
    t.float('w', k, wv);
    t.op('s2b', 'SpaceToBatchND', ['x', 'block', 'paddings']);
    t.op('conv', 'DepthwiseConv2dNative', ['s2b', 'w'], { strides: attr.ints([1, 1, 1, 1]), padding: attr.s('VALID'), data_format: attr.s('NHWC'), dilations: attr.ints([1, 1, 1, 1]) });
    t.op('y', 'BatchToSpaceND', ['conv', 'block', 'crops']);
    const out = await runOnnx(await t.session({ s2b: 's2b', y: 'y' }), { x: { data: xv4, dims: d } });
    // SpaceToBatchND by its definition: batch (py * 2 + px) holds pixels (2h + py, 2w + px) of the padded image.
    expect(out.s2b!.dims).toEqual([4, 4, 5, 4]);
    const s2b: number[] = [];
    for (let py = 0; py < 2; py++)
      for (let px = 0; px < 2; px++)
        for (let h = 0; h < 4; h++)
          for (let w = 0; w < 5; w++)
            for (let c = 0; c < 4; c++) {
              const y = 2 * h + py;
              const x = 2 * w + px;
              s2b.push(y < 7 && x < 9 ? xv4[idx4(d, 0, y, x, c)]! : 0);
            }
    expect(maxDiff(out.s2b!.data, s2b)).toBe(0);
    // The whole chain equals a VALID depthwise conv with dilation 2 (the output crop is TF's).
    const ref = convRef(xv4, d, wv, k, { stride: 1, dilation: 2, padding: 'VALID', depthwise: true });
    expect(out.y!.dims).toEqual(ref.dims);
    expect(maxDiff(out.y!.data, ref.data)).toBeLessThan(1e-5);
  });
});

describe('tfjs -> onnx converter: control flow and errors', () => {
  function switchGraph(): TfGraph {
    const t = new TfGraph();
    const x = t.placeholder('x', [2]);
    const ratio = t.placeholder('ratio', []);
    t.float('one', [], [1]);
    t.op('pred', 'Equal', [ratio, 'one']);
    t.op('sw', 'Switch', [x, 'pred']);
    t.op('then', 'Mul', ['sw:1', t.float('ten', [], [10])]);
    t.op('else', 'Sub', ['sw', t.float('k', [], [1])]);
    t.op('merged', 'Merge', ['then', 'else'], { N: attr.i(2) });
    t.op('y', 'Mul', ['merged', ratio]);
    return t;
  }

  it('resolves an input-dependent Switch/Merge to the branch named at conversion, dropping the other', async () => {
    const out = await runOnnx(await switchGraph().session({ y: 'y' }, { switchPredicate: false }), { x: { data: [3, 5], dims: [2] }, ratio: { data: [0.5], dims: [] } });
    expect(out.y!.data).toEqual([1, 2]); // (x - 1) * 0.5
    const then = await runOnnx(await switchGraph().session({ y: 'y' }, { switchPredicate: true }), { x: { data: [3, 5], dims: [2] }, ratio: { data: [1], dims: [] } });
    expect(then.y!.data).toEqual([30, 50]);
  });

  it('takes the branch of a constant predicate by itself, and refuses an input-dependent one without switchPredicate', async () => {
    const t = new TfGraph();
    t.placeholder('x', [2]);
    t.bool('p', true);
    t.op('sw', 'Switch', ['x', 'p']);
    t.op('y', 'Merge', [t.op('a', 'Relu', ['sw:1']), t.op('b', 'Neg', ['sw'])], { N: attr.i(2) });
    const out = await runOnnx(await t.session({ y: 'y' }), { x: { data: [-1, 2], dims: [2] } });
    expect(out.y!.data).toEqual([0, 2]);
    const { model, bin } = switchGraph().build();
    expect(() => tfjsToOnnx(model, readWeights(model, bin), { outputs: { y: 'y' } })).toThrow(/Switch sw depends on a graph input: convert with switchPredicate/);
  });

  it('names the op and node it cannot convert, and a weights file that does not match its manifest', () => {
    const t = new TfGraph();
    t.placeholder('x', [2]);
    t.op('y', 'Erfinv', ['x']);
    const { model, bin } = t.build();
    expect(() => tfjsToOnnx(model, readWeights(model, bin), { outputs: { y: 'y' } })).toThrow(TfjsFormatError);
    expect(() => tfjsToOnnx(model, readWeights(model, bin), { outputs: { y: 'y' } })).toThrow(/op Erfinv \(node y\) is not supported/);
    const w = new TfGraph();
    w.float('c', [4], [1, 2, 3, 4]);
    const built = w.build();
    expect(() => readWeights(built.model, built.bin.subarray(0, 8))).toThrow(/ends at byte 8, before weight c/);
    expect(() => readWeights(built.model, Buffer.concat([built.bin, Buffer.alloc(4)]))).toThrow(/accounts for 16 bytes but the shards hold 20/);
  });
});
