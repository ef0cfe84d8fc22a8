// BackgroundMattingV2's MattingRefine network with the MobileNetV2 backbone, at its real size,
// built with the project's GraphBuilder and random seeded weights: its output means nothing, its
// cost is the real network's. `npm run bench bgmv2` times it because the official weights cannot
// be downloaded here. The architecture follows the authors' model code (PeterL1n/
// BackgroundMattingV2, model/{model,mobilenet,decoder,refiner}.py; read, not copied):
// - input: src and bgr downsampled by backboneScale (bilinear), concatenated: 6 channels;
// - backbone: torchvision's MobileNetV2 features without its last 1x1 block, block 14 at stride 1
//   and blocks 15-17 dilated by 2 (output stride 16); skips at 1/2 (16 ch), 1/4 (24), 1/8 (32);
// - ASPP(320 -> 256, rates 3, 6, 9, plus image pooling), then the decoder (256 -> 128 -> 64 -> 48
//   -> 37 channels, upsampling to each skip and finally to the backbone's input);
// - coarse outputs: pha, fgr residual, err, 32 hidden channels;
// - refiner, sampling mode: err upsampled to 1/4 resolution, TopK(refineSamplePixels / 16) picks
//   the 4x4 patches (times err > 0, "prevent oversampling"), NonZero lists them, RoiAlign crops 8x8
//   patches at 1/2 resolution (hidden + coarse, and src/bgr) and at full resolution (src/bgr),
//   four 3x3 convolutions, and ScatterElements pastes the 4x4 results into the upsampled coarse
//   result (the ONNX export's roi_align / scatter_element options).
// Batch norms are folded into the convolutions, as onnxruntime fuses them at load.
import { GraphBuilder } from '../../src/engine/matting/onnx/graph-builder.js';
import { rng } from '../../src/eval/synthetic.js';

export interface NetworkOptions {
  readonly backboneScale: number;
  readonly refineSamplePixels: number;
  readonly seed?: number;
}

interface ConvSpec {
  readonly k?: number;
  readonly stride?: number;
  readonly pad?: number;
  readonly dilation?: number;
  readonly groups?: number;
  readonly act?: 'relu' | 'relu6' | null;
  /** Scales the weights (keeps an output in a useful range). */
  readonly gain?: number;
  /** Per-output-channel bias offsets added to the random bias. */
  readonly biasOffset?: readonly number[];
}

class Net {
  readonly weights = { count: 0 };
  private readonly rand: () => number;

  constructor(
    readonly g: GraphBuilder,
    seed: number,
  ) {
    this.rand = rng(seed); // seeded, so every build has the same weights
  }

  /** Conv (+ folded batch norm) (+ activation); weights uniform with variance 1/fan-in. */
  conv(x: string, cin: number, cout: number, spec: ConvSpec = {}): string {
    const { k = 1, stride = 1, pad = 0, dilation = 1, groups = 1, act = null, gain = 1, biasOffset } = spec;
    const fanIn = (cin / groups) * k * k;
    const w = new Float32Array(cout * fanIn);
    const a = Math.sqrt(3 / fanIn) * gain;
    for (let i = 0; i < w.length; i++) w[i] = (this.rand() * 2 - 1) * a;
    const b = new Float32Array(cout).map((_, i) => (this.rand() * 2 - 1) * 0.1 + (biasOffset?.[i] ?? 0));
    this.weights.count += w.length + b.length;
    const y = this.g.op('Conv', [x, this.g.raw('float', w, [cout, cin / groups, k, k]), this.g.raw('float', b, [cout])], {
      kernel_shape: [k, k],
      strides: [stride, stride],
      pads: [pad, pad, pad, pad],
      dilations: [dilation, dilation],
      group: groups,
    });
    if (act === 'relu') return this.g.op('Relu', [y]);
    if (act === 'relu6') return this.g.op('Clip', [y, this.g.float(0), this.g.float(6)]);
    return y;
  }

  /** torchvision's InvertedResidual: 1x1 expand (t > 1), 3x3 depthwise, 1x1 project, residual when shapes allow. */
  invertedResidual(x: string, inp: number, oup: number, stride: number, t: number, dilation: number): string {
    const hidden = inp * t;
    const expanded = t === 1 ? x : this.conv(x, inp, hidden, { act: 'relu6' });
    const depthwise = this.conv(expanded, hidden, hidden, { k: 3, stride, pad: dilation, dilation, groups: hidden, act: 'relu6' });
    const projected = this.conv(depthwise, hidden, oup);
    return stride === 1 && inp === oup ? this.g.op('Add', [x, projected]) : projected;
  }

  shapeSlice(x: string, from: number, to: number): string {
    return this.g.op('Slice', [this.g.op('Shape', [x]), this.g.int64([from]), this.g.int64([to]), this.g.int64([0])]);
  }

  /** Bilinear (align_corners=False) resize of x to `sizes` (int64 N, C, H, W). */
  resize(x: string, sizes: string, mode: 'linear' | 'nearest' = 'linear'): string {
    return this.g.op('Resize', [x, '', '', sizes], { mode, coordinate_transformation_mode: mode === 'linear' ? 'pytorch_half_pixel' : 'asymmetric', nearest_mode: 'floor' });
  }

  /** Resizes x to the spatial size of `like`. */
  resizeLike(x: string, like: string): string {
    return this.resize(x, this.g.op('Concat', [this.shapeSlice(x, 0, 2), this.shapeSlice(like, 2, 4)], { axis: 0 }));
  }

  channels(x: string, from: number, to: number): string {
    return this.g.op('Slice', [x, this.g.int64([from]), this.g.int64([to]), this.g.int64([1])]);
  }

  clip01(x: string): string {
    return this.g.op('Clip', [x, this.g.float(0), this.g.float(1)]);
  }
}

/** MobileNetV2 encoder: returns [x4 (320 ch, 1/16), x3 (32, 1/8), x2 (24, 1/4), x1 (16, 1/2)]. */
function mobileNetV2(n: Net, x0: string): [string, string, string, string] {
  let x = n.conv(x0, 6, 32, { k: 3, stride: 2, pad: 1, act: 'relu6' }); // features[0]
  x = n.invertedResidual(x, 32, 16, 1, 1, 1); // features[1]
  const x1 = x;
  let x2 = x;
  let x3 = x;
  let cin = 16;
  let i = 2;
  const settings: [number, number, number, number][] = [
    [6, 24, 2, 2],
    [6, 32, 3, 2],
    [6, 64, 4, 2],
    [6, 96, 3, 1],
    [6, 160, 3, 2],
    [6, 320, 1, 1],
  ];
  for (const [t, c, count, s] of settings) {
    for (let j = 0; j < count; j++, i++) {
      const stride = i === 14 ? 1 : j === 0 ? s : 1; // block 14 keeps stride 1: output stride 16
      x = n.invertedResidual(x, cin, c, stride, t, i >= 15 ? 2 : 1);
      cin = c;
      if (i === 3) x2 = x;
      if (i === 6) x3 = x;
    }
  }
  return [x, x3, x2, x1];
}

/** torchvision's ASPP(320, [3, 6, 9]) with 256 output channels (dropout is a no-op at inference). */
function aspp(n: Net, x: string): string {
  const branches = [n.conv(x, 320, 256, { act: 'relu' }), ...[3, 6, 9].map((r) => n.conv(x, 320, 256, { k: 3, pad: r, dilation: r, act: 'relu' }))];
  const pooled = n.conv(n.g.op('GlobalAveragePool', [x]), 320, 256, { act: 'relu' });
  branches.push(n.resizeLike(pooled, x));
  return n.conv(n.g.op('Concat', branches, { axis: 1 }), 5 * 256, 256, { act: 'relu' });
}

function decoder(n: Net, x4: string, x3: string, x2: string, x1: string, x0: string): string {
  const step = (x: string, skip: string, cin: number, cskip: number, cout: number, last = false) =>
    n.conv(n.g.op('Concat', [n.resizeLike(x, skip), skip], { axis: 1 }), cin + cskip, cout, {
      k: 3,
      pad: 1,
      act: last ? null : 'relu',
      // The error channel (4): small weights, positive bias, so err > 0 nearly everywhere and the
      // refiner works on its full budget of patches, as sampling mode's fixed cost assumes.
      ...(last ? { gain: 0.05, biasOffset: [0, 0, 0, 0, 0.5] } : {}),
    });
  let x = step(x4, x3, 256, 32, 128);
  x = step(x, x2, 128, 24, 64);
  x = step(x, x1, 64, 16, 48);
  return step(x, x0, 48, 6, 37, true);
}

/** The refiner in sampling mode (kernel size 3). Returns [pha, fgr residual, ref_sm]. */
function refiner(n: Net, src: string, bgr: string, pha: string, fgr: string, err: string, hid: string, k: number): [string, string, string] {
  const g = n.g;
  const hw = n.shapeSlice(src, 2, 4);
  const nc = (x: string, c: number) => g.op('Concat', [n.shapeSlice(x, 0, 1), g.int64([c])], { axis: 0 });
  const quarter = g.op('Div', [hw, g.int64([4])]);
  const half = g.op('Div', [hw, g.int64([2])]);
  const srcBgr = g.op('Concat', [src, bgr], { axis: 1 });

  // Select: top-k error at 1/4 resolution, only where err > 0.
  const errQ = n.resize(err, g.op('Concat', [nc(err, 1), quarter], { axis: 0 }));
  const flat = g.op('Reshape', [errQ, g.int64([0, -1])]);
  const [top, index] = g.opN('TopK', [flat, g.int64([k])], 2, { axis: -1, largest: 1, sorted: 0 });
  const zeros = g.op('Mul', [flat, g.float(0)]);
  const ones = g.op('Add', [g.op('Mul', [top!, g.float(0)]), g.float(1)]);
  const chosen = g.op('Mul', [g.op('ScatterElements', [zeros, index!, ones], { axis: 1 }), g.op('Cast', [g.op('Greater', [flat, g.float(0)])], { to: 1 })]);
  const refSm = g.op('Reshape', [chosen, g.op('Shape', [errQ])]);
  const idx = g.op('NonZero', [g.op('Squeeze', [refSm, g.int64([1])])]); // (3, P): batch, y, x
  const row = (r: number) => g.op('Gather', [idx, g.int64(r)], { axis: 0 });
  const [b, y, x] = [row(0), row(1), row(2)];

  // Crop (size + 2 * padding)^2 patches at stride `size` from x padded by `padding` (RoiAlign, one sample per bin).
  const crop = (img: string, size: number, padding: number) => {
    const padded = g.op('Pad', [img, g.int64([0, 0, padding, padding, 0, 0, padding, padding])]);
    const at = (v: string, extra: number) => g.op('Sub', [g.op('Add', [g.op('Mul', [g.op('Cast', [v], { to: 1 }), g.float(size)]), g.float(extra)]), g.float(0.5)]);
    const box = (v: string) => g.op('Unsqueeze', [v, g.int64([1])]);
    const rois = g.op('Concat', [box(at(x, 0)), box(at(y, 0)), box(at(x, size + 2 * padding)), box(at(y, size + 2 * padding))], { axis: 1 });
    const out = size + 2 * padding;
    return g.op('RoiAlign', [padded, rois, b], {
      output_height: out,
      output_width: out,
      sampling_ratio: 1,
      spatial_scale: { float: 1 },
      mode: 'avg',
      coordinate_transformation_mode: 'output_half_pixel',
    });
  };
  const coarse = g.op('Concat', [hid, pha, fgr], { axis: 1 }); // 32 + 1 + 3
  const atHalf = (img: string, c: number) => n.resize(img, g.op('Concat', [nc(img, c), half], { axis: 0 }));
  let p = g.op('Concat', [crop(atHalf(coarse, 36), 2, 3), crop(atHalf(srcBgr, 6), 2, 3)], { axis: 1 });
  p = n.conv(p, 42, 24, { k: 3, act: 'relu' }); // 8 -> 6
  p = n.conv(p, 24, 16, { k: 3, act: 'relu' }); // 6 -> 4
  p = g.op('Resize', [p, '', g.float([1, 1, 2, 2])], { mode: 'nearest' }); // 4 -> 8
  p = n.conv(g.op('Concat', [p, crop(srcBgr, 4, 2)], { axis: 1 }), 16 + 6, 12, { k: 3, act: 'relu' });
  p = n.conv(p, 12, 4, { k: 3 }); // (P, 4, 4, 4)

  // Paste: the coarse result upsampled to full size, patches replaced pixel by pixel.
  const up = n.resize(g.op('Concat', [pha, fgr], { axis: 1 }), g.op('Concat', [nc(pha, 4), hw], { axis: 0 }));
  const H = g.op('Slice', [hw, g.int64([0]), g.int64([1]), g.int64([0])]);
  const W = g.op('Slice', [hw, g.int64([1]), g.int64([2]), g.int64([0])]);
  const plane = g.op('Mul', [H, W]);
  const cIdx = g.op('Mul', [g.int64([0, 1, 2, 3], [4, 1, 1]), plane]);
  const rowIdx = g.op('Mul', [g.int64([0, 1, 2, 3], [1, 4, 1]), W]);
  const pattern = g.op('Add', [g.op('Add', [cIdx, rowIdx]), g.int64([0, 1, 2, 3], [1, 1, 4])]); // (4, 4, 4)
  const loc = g.op('Add', [g.op('Add', [g.op('Mul', [b, g.op('Mul', [plane, g.int64([4])])]), g.op('Mul', [g.op('Mul', [y, W]), g.int64([4])])]), g.op('Mul', [x, g.int64([4])])]);
  const pixels = g.op('Add', [g.op('Reshape', [loc, g.int64([-1, 1, 1, 1])]), g.op('Unsqueeze', [pattern, g.int64([0])])]);
  const pasted = g.op('ScatterElements', [g.op('Reshape', [up, g.int64([-1])]), g.op('Reshape', [pixels, g.int64([-1])]), g.op('Reshape', [p, g.int64([-1])])], { axis: 0 });
  const out = g.op('Reshape', [pasted, g.op('Shape', [up])]);
  return [n.channels(out, 0, 1), n.channels(out, 1, 4), refSm];
}

/** Builds the network; the model keeps the official exports' contract (src, bgr -> pha, fgr, pha_sm, fgr_sm, err_sm, ref_sm). */
export function buildBgmv2Network(options: NetworkOptions): { bytes: Uint8Array; parameters: number } {
  const g = new GraphBuilder('bgmv2_mobilenetv2_random');
  const n = new Net(g, options.seed ?? 1);
  const dims = ['batch', 3, 'height', 'width'];
  const src = g.input('src', 'float', dims);
  const bgr = g.input('bgr', 'float', dims);
  const scales = g.float([1, 1, options.backboneScale, options.backboneScale]);
  const small = (x: string) => g.op('Resize', [x, '', scales], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' });
  const srcSm = small(src);
  const x0 = g.op('Concat', [srcSm, small(bgr)], { axis: 1 });
  const [x4, x3, x2, x1] = mobileNetV2(n, x0);
  const base = decoder(n, aspp(n, x4), x3, x2, x1, x0);
  const phaSm = n.clip01(n.channels(base, 0, 1));
  const fgrSm = n.channels(base, 1, 4);
  const errSm = n.clip01(n.channels(base, 4, 5));
  const hidSm = g.op('Relu', [n.channels(base, 5, 37)]);
  const [pha, fgr, refSm] = refiner(n, src, bgr, phaSm, fgrSm, errSm, hidSm, Math.floor(options.refineSamplePixels / 16));

  g.output('pha', n.clip01(pha), 'float', ['batch', 1, 'height', 'width']);
  g.output('fgr', n.clip01(g.op('Add', [fgr, src])), 'float', ['batch', 3, 'height', 'width']);
  g.output('pha_sm', phaSm, 'float', ['batch', 1, 'coarse_height', 'coarse_width']);
  g.output('fgr_sm', n.clip01(g.op('Add', [srcSm, fgrSm])), 'float', ['batch', 3, 'coarse_height', 'coarse_width']);
  g.output('err_sm', errSm, 'float', ['batch', 1, 'coarse_height', 'coarse_width']);
  g.output('ref_sm', refSm, 'float', ['batch', 1, 'quarter_height', 'quarter_width']);
  return { bytes: g.toBytes('BackgroundMattingV2 MobileNetV2 architecture, random seeded weights (CleanPlate bench)'), parameters: n.weights.count };
}
