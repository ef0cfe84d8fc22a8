// The `plate` model as an ONNX graph: background-difference matting with a known clean plate.
//
// Structure (the BGMv2 idea of a cheap coarse pass plus a full-resolution refinement, without
// learned weights):
//   0. Once per plate (a separate small graph, geometry.ts): the plate in planar uint8 and at low resolution.
//   1. Full resolution, in integers: the exposure gain g (fitted on a point-sampled view) goes
//      into the weights of one 1x1 ConvInteger that computes D = I - g*B from the uint8 frame and
//      plate; the guide is G = |D|_1. For a subject of colour F over B, |D|_1 = alpha * |F - B|_1,
//      so alpha is locally linear in G.
//   2. Low resolution (frame / k): noise level from the background residual, proportional alpha
//      G / M with M the subject's local contrast, semi-transparency from the plate's texture,
//      holes filled, and the coefficients of a guided filter (guide G, input the coarse alpha).
//   3. Full resolution again (fast guided filter): the coefficients are upsampled and applied to
//      the full-resolution guide, so alpha follows the real edges; foreground from the compositing
//      equation F = I + (1 - alpha)/alpha * D.
//   4. Hard edges (hard-edges.ts): on the full-resolution tiles along the solid interior's rim,
//      alpha is raised to the compositing equation's projection onto one subject colour (before
//      the foreground of step 3 is computed from it).
// Inputs and outputs are uint8 so JS only copies buffers; all float work runs in onnxruntime.
import { GraphBuilder } from '../onnx/graph-builder.js';
import { planarInput, plateGeometry, ramp as rampOp, reduceBlocks } from './geometry.js';
import { hardEdges } from './hard-edges.js';
import { defaultPlateSettings, GAIN_MAX, GAIN_SCALE, type PlateSettings } from './settings.js';

// The settings are part of this model's interface (the fused model and tests take them from here).
export { defaultPlateSettings, type PlateSettings } from './settings.js';

export interface PlateGraphSpec {
  readonly width: number;
  readonly height: number;
  /** Channels of the input frames: 3 (RGB) or 4 (RGBA, alpha ignored). */
  readonly channels: 3 | 4;
  /** Also compute the RGBA foreground (costs a few full-resolution passes). */
  readonly foreground: boolean;
  readonly settings?: PlateSettings;
  /** Also output the low-resolution intermediates (float, 1x1xhxw) for tuning and debugging. */
  readonly debug?: boolean;
}

export interface PlateGraph {
  readonly bytes: Uint8Array;
  readonly factor: number;
  /** Size of the `err` output (low resolution). */
  readonly errorWidth: number;
  readonly errorHeight: number;
}

/**
 * Squared colour distance (1,h,w) of the frame from the nearest of the exposure-matched plate's
 * 3x3 neighbours at low resolution: a plate off by up to a low-resolution pixel still matches.
 * (The nearest colour, not a per-channel range: over a textured plate such as brick and mortar a
 * per-channel range is a large box in colour space that hides real subjects.)
 */
function nearestShiftDist(g: GraphBuilder, Is: string, Bs: string, gain: string, h: number, w: number): string {
  const taps = Array.from({ length: 3 * 9 * 9 }, (_, i) => (i % 9 === Math.floor(i / 9) % 9 ? 1 : 0));
  const shifts = g.op('Conv', [g.op('Unsqueeze', [g.op('Mul', [Bs, gain]), g.int64([0])]), g.float(taps, [27, 1, 3, 3])], { group: 3, pads: [1, 1, 1, 1] });
  const diff = g.op('Sub', [g.op('Reshape', [shifts, g.int64([1, 3, 9, h, w])]), g.op('Reshape', [Is, g.int64([1, 3, 1, h, w])])]);
  // The sum over colour channels as a 1x1 convolution (a small GEMM): several times faster in
  // onnxruntime than ReduceSum over a leading axis.
  const sumTaps = Array.from({ length: 9 * 27 }, (_, i) => (Math.floor(i / 27) === (i % 27) % 9 ? 1 : 0));
  const dist = g.op('Conv', [g.op('Reshape', [g.op('Mul', [diff, diff]), g.int64([1, 27, h, w])]), g.float(sumTaps, [9, 27, 1, 1])]);
  return g.op('Squeeze', [g.op('ReduceMin', [dist, g.int64([1])], { keepdims: 1 }), g.int64([0])]);
}

/**
 * Builds the frame graph for one frame size. Inputs `src` uint8 (H, W, C) and the plate's
 * prepared `bgr_planar`, `bgr_low`. Outputs `alpha` uint8 (H, W); `err` uint8 (h, w); with
 * `foreground`, `fgr` uint8 (H, W, 4) straight RGBA.
 */
export function buildPlateGraph(spec: PlateGraphSpec): PlateGraph {
  const s = spec.settings ?? defaultPlateSettings;
  const { width: W, height: H, channels: C } = spec;
  const geo = plateGeometry(W, H, s);
  const { k, paddedHeight: Hp, paddedWidth: Wp, lowHeight: h, lowWidth: w } = geo;
  const g = new GraphBuilder('cleanplate_plate');
  const f = (v: number) => g.float(v);
  const axes = (...a: number[]) => g.int64(a);

  // --- exposure gain from a point-sampled view (one pixel per 2k x 2k block: plenty for 3 numbers)
  const S = planarInput(g, 'src', geo, C); // uint8 (3,Hp,Wp)
  const Bp = g.input('bgr_planar', 'uint8', [3, Hp, Wp]);
  const Bs = g.input('bgr_low', 'float', [3, h, w]);
  const sumC = (x: string) => g.op('ReduceSum', [x, axes(0)], { keepdims: 1 }); // (1,h,w)
  const sumHW = (x: string) => g.op('ReduceSum', [x, axes(1, 2)], { keepdims: 1 }); // (c,1,1)
  const sq = (x: string) => g.op('Mul', [x, x]);
  const sample = (x: string) => g.op('DequantizeLinear', [g.op('Slice', [x, g.int64([0, 0]), g.int64([Hp, Wp]), g.int64([1, 2]), g.int64([2 * k, 2 * k])]), f(1 / 255), g.uint8(0)]);
  const Ip = sample(S);
  const Bpt = sample(Bp);
  // Likely background = small raw difference; loose so an exposure change still counts. The gain
  // is quantised to 1/GAIN_SCALE so the full-resolution difference can use it in integers.
  const d0 = sumC(sq(g.op('Sub', [Ip, Bpt])));
  const w0 = g.op('Exp', [g.op('Mul', [d0, f(-1 / (2 * 0.08 * 0.08))])]);
  const gainNum = sumHW(g.op('Mul', [w0, g.op('Mul', [Ip, Bpt])]));
  const gainDen = g.op('Add', [sumHW(g.op('Mul', [w0, sq(Bpt)])), f(1e-6)]);
  const gainSteps = g.op('Round', [g.op('Mul', [g.op('Clip', [g.op('Div', [gainNum, gainDen]), f(0.5), f(GAIN_MAX)]), f(GAIN_SCALE)])]);
  const gain = g.op('Mul', [gainSteps, f(1 / GAIN_SCALE)]); // (3,1,1)

  // --- full resolution, in integers: D = I - gain * B and its L1 norm --------------------------
  // One 1x1 ConvInteger over [frame; plate] (a uint8 GEMM) instead of two dequantisations and
  // float arithmetic. Weights around a zero point of 128: +GAIN_SCALE for the frame's channel,
  // -round(GAIN_SCALE * gain) for the plate's, so D comes out in levels x GAIN_SCALE.
  const framePlate = g.op('Concat', [S, Bp], { axis: 0 });
  const X6 = g.op('Unsqueeze', [framePlate, axes(0)]);
  const frameWeights = g.float([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3, 1, 1]);
  const plateWeights = g.op('Mul', [g.float([1, 0, 0, 0, 1, 0, 0, 0, 1], [3, 3, 1, 1]), g.op('Reshape', [g.op('Neg', [gainSteps]), g.int64([3, 1, 1, 1])])]);
  const weights = g.op('Add', [g.op('Concat', [g.op('Mul', [frameWeights, f(GAIN_SCALE)]), plateWeights], { axis: 1 }), f(128)]);
  const Dint = g.op('ConvInteger', [X6, g.op('QuantizeLinear', [weights, f(1), g.uint8(0)]), '', g.uint8(128)]); // int32 (1,3,Hp,Wp)
  // The channel sum as Split + Sum (ReduceSum over the channel axis measured ~2x slower, ReduceL1 slower still).
  const [a0, a1, a2] = g.opN('Split', [g.op('Abs', [Dint]), g.int64([1, 1, 1])], 3, { axis: 1 });
  const Gint = g.op('Add', [g.op('Add', [a0!, a1!]), a2!]); // int32 (1,1,Hp,Wp)
  // Low-resolution difference after the exposure match (exact block sums in int32), and frame.
  // (A strided k x k ConvInteger for these block sums measured 3x slower: im2col.)
  const Ds = g.op('Mul', [g.op('Cast', [reduceBlocks(g, 'ReduceSum', Dint, 3, geo)], { to: 1 }), f(1 / (GAIN_SCALE * 255 * k * k))]);
  const Is = g.op('Add', [Ds, g.op('Mul', [Bs, gain])]);

  // --- low resolution: noise level, coarse alpha ----------------------------------------------
  const d1 = sumC(sq(Ds)); // squared colour distance after exposure match, (1,h,w)
  // Noise variance per channel from the residual on confident background (robust weighting).
  const w1 = g.op('Exp', [g.op('Mul', [d1, f(-1 / (2 * 0.04 * 0.04))])]);
  const noiseVarRaw = g.op('Div', [sumHW(g.op('Mul', [w1, d1])), g.op('Add', [g.op('Mul', [sumHW(w1), f(3)]), f(1e-6)])]);
  const noiseVar = g.op('Max', [noiseVarRaw, f(s.noiseFloor * s.noiseFloor)]);
  const nchw = (x: string) => g.op('Unsqueeze', [x, axes(0)]);
  const ramp = (x: string, lo: number, hi: number) => rampOp(g, x, lo, hi);
  const sigmas = (dist2: string) => g.op('Sqrt', [g.op('Div', [dist2, g.op('Mul', [noiseVar, f(3)])])]); // RMS in sigmas

  // Cast shadows: the subject darkens the plate behind it without changing its colour, so the
  // frame is the plate times a brightness factor beta (Horprasert et al.'s brightness and
  // chromaticity distortion). Where beta is in the shadow range and what is left after taking
  // it out (the chromaticity distortion) is noise, the decision looks at that residual only.
  // (A grey subject over a grey wall of similar texture is the price: settings.shadows = false.)
  // A plate off by a pixel or so (hand-held, tripod nudged, compression) leaves differences along
  // the plate's own edges. Decisions use the distance to the nearest of the plate's 3x3 neighbours.
  let shadowLike: string | undefined;
  let decisionDist = s.jitterTolerant ? nearestShiftDist(g, Is, Bs, gain, h, w) : d1;
  if (s.shadows) {
    const Bg = g.op('Mul', [Bs, gain]);
    const beta = g.op('Div', [sumC(g.op('Mul', [Is, Bg])), g.op('Add', [sumC(sq(Bg)), f(1e-6)])]);
    // A shadow dims the plate smoothly, so one factor over a small window must explain the frame
    // too: a darker object of the plate's hue whose texture does not follow the plate's (a tan box
    // against a tan corrugated wall) leaves a residual there and is not taken for a shadow.
    const rw = s.shadowWindow;
    const win = (x: string) =>
      g.op('Squeeze', [g.op('AveragePool', [g.op('Unsqueeze', [x, axes(0)])], { kernel_shape: [2 * rw + 1, 2 * rw + 1], pads: [rw, rw, rw, rw], count_include_pad: 0 }), axes(0)]);
    const betaWin = g.op('Div', [win(sumC(g.op('Mul', [Is, Bg]))), g.op('Add', [win(sumC(sq(Bg))), f(1e-6)])]);
    const chroma = g.op('Max', [sumC(sq(g.op('Sub', [Is, g.op('Mul', [beta, Bg])]))), sumC(sq(g.op('Sub', [Is, g.op('Mul', [betaWin, Bg])])))]);
    const inRange = g.op('Mul', [ramp(beta, s.shadowDepth, s.shadowDepth + 0.1), g.op('Sub', [f(1), ramp(beta, 1, 1.05)])]);
    shadowLike = g.op('Mul', [inRange, g.op('Sub', [f(1), ramp(sigmas(chroma), s.zGate, s.zLow)])]);
    decisionDist = g.op('Min', [decisionDist, g.op('Add', [d1, g.op('Mul', [shadowLike, g.op('Sub', [chroma, d1])])])]);
  }
  const z = sigmas(decisionDist);
  // Confident subject: a difference well above the noise. (1,1,h,w) from here on.
  const conf = nchw(ramp(z, s.zLow, s.zHigh));
  // Any difference above the noise at all.
  const significant = nchw(ramp(z, s.zGate, s.zLow));

  const dilate = (x: string, r: number) => g.op('MaxPool', [x], { kernel_shape: [2 * r + 1, 2 * r + 1], pads: [r, r, r, r] });
  const erode = (x: string, r: number) => g.op('Neg', [dilate(g.op('Neg', [x]), r)]);
  // Separable box filter: AveragePool costs kernel area per pixel, two 1-D passes cost 2r+1 each.
  // (Exact with count_include_pad=0: the border normalisation factorises too.)
  const boxR = (x: string, r: number) =>
    g.op('AveragePool', [g.op('AveragePool', [x], { kernel_shape: [2 * r + 1, 1], pads: [r, 0, r, 0], count_include_pad: 0 })], {
      kernel_shape: [1, 2 * r + 1],
      pads: [0, r, 0, r],
      count_include_pad: 0,
    });
  const mul = (x: string, y: string) => g.op('Mul', [x, y]);
  const add = (x: string, y: string) => g.op('Add', [x, y]);
  const sub = (x: string, y: string) => g.op('Sub', [x, y]);
  const div = (x: string, y: string) => g.op('Div', [x, y]);
  const sumAll = (x: string) => g.op('ReduceSum', [x], { keepdims: 0 });
  const sumC1 = (x: string) => g.op('ReduceSum', [x, axes(1)], { keepdims: 1 }); // channels of NCHW

  // --- guide G = |I - B|_1 at full resolution and its low-resolution mean ------------------------
  // Full resolution keeps G in integer units (levels x GAIN_SCALE, no scaling pass); the low
  // resolution works in 0..3 and the coefficients are rescaled before upsampling.
  const gUnit = 1 / (255 * GAIN_SCALE);
  // Under heavy sensor noise the guide's own noise passes into alpha near edges, so the guide is
  // smoothed (3x3) in proportion to the measured noise; clean footage skips the pass entirely and
  // keeps its finest detail (hair).
  // Per-pixel noise straight from the point samples (single pixels, so not reduced by averaging),
  // robustly weighted towards background.
  const dPoint = sumC(sq(g.op('Sub', [Ip, g.op('Mul', [Bpt, gain])])));
  const wPoint = g.op('Exp', [g.op('Mul', [dPoint, f(-1 / (2 * 0.05 * 0.05))])]);
  const pointVar = g.op('Div', [sumHW(g.op('Mul', [wPoint, dPoint])), g.op('Add', [g.op('Mul', [sumHW(wPoint), f(3)]), f(1e-6)])]);
  const noiseFull = g.op('Mul', [g.op('Sqrt', [pointVar]), f(255)]); // levels, per channel of D
  const smoothing = ramp(noiseFull, s.guideNoise[0], s.guideNoise[1]);
  const Graw = g.op('Cast', [Gint], { to: 1 }); // (1,1,Hp,Wp)
  const noisy = g.op('Greater', [g.op('Reshape', [smoothing, g.int64([])]), f(0.02)]);
  const G = g.op('Squeeze', [
    g.ifElse(
      noisy,
      'float',
      [1, 1, Hp, Wp],
      (b) => {
        const blurred = b.op('AveragePool', [Graw], { kernel_shape: [3, 3], pads: [1, 1, 1, 1], count_include_pad: 0 });
        return b.op('Add', [Graw, b.op('Mul', [b.op('Sub', [blurred, Graw]), smoothing])]);
      },
      (b) => b.op('Identity', [Graw]),
    ),
    axes(0),
  ]); // (1,Hp,Wp)
  const Gs = g.op('Mul', [nchw(reduceBlocks(g, 'ReduceMean', G, 1, geo)), f(gUnit)]); // (1,1,h,w) in 0..3

  // Semi-transparency from the plate's texture: where the subject is see-through, the plate's
  // texture shows through scaled by (1 - alpha), so the slope of frame on plate over a window is
  // 1 - alpha. Trusted only deep inside confident regions (the window must not straddle an edge)
  // and shrunk towards opaque where the plate has too little texture to tell.
  // These are wide-window statistics, so they are taken at half the low resolution (1/8 of the
  // box-filter work) and the result brought back up.
  const rt = Math.max(1, Math.round(s.textureRadius / 2));
  const half = (x: string) => g.op('AveragePool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  const up = (x: string) => g.op('Resize', [x, '', '', g.int64([1, 1, h, w])], { mode: 'linear' });
  const Bg2 = half(nchw(mul(Bs, gain))); // (1,3,h/2,w/2)
  const Is2 = half(nchw(Is));
  const mB = boxR(Bg2, rt);
  const mI = boxR(Is2, rt);
  // Sensor noise inflates both variances (and so deflates the slope and R^2): take out what the
  // measured noise puts there. Each capture carries about half of the frame-plate noise variance,
  // and these pixels average 4 low-resolution ones; summed over 3 channels.
  const noiseHere = g.op('Mul', [noiseVar, f((3 * 0.5) / 4)]);
  const denoised = (v: string) => g.op('Max', [sub(v, noiseHere), f(1e-8)]);
  const covIB = sumC1(sub(boxR(mul(Is2, Bg2), rt), mul(mI, mB)));
  const varB = denoised(sumC1(sub(boxR(mul(Bg2, Bg2), rt), mul(mB, mB))));
  const varI = denoised(sumC1(sub(boxR(mul(Is2, Is2), rt), mul(mI, mI))));
  const slopeTex = g.op('Clip', [sub(f(1), div(covIB, add(varB, f(s.textureReg)))), f(0), f(1)]);
  // Only as far as the plate explains the frame (R^2): a textured subject whose shading happens to
  // follow the plate's gradients must not turn see-through.
  const explained = div(mul(covIB, covIB), add(mul(varI, add(varB, f(s.textureReg))), f(1e-12)));
  const alphaTex = sub(f(1), mul(ramp(explained, s.textureR2[0], s.textureR2[1]), sub(f(1), slopeTex)));
  const deep = half(erode(conf, s.textureRadius));
  // Spread the deep estimate over the whole confident region (normalised convolution with a
  // prior of "opaque" where no deep estimate is near).
  const spread = (x: string) => boxR(x, rt + 1);
  const alphaIn = up(div(add(spread(mul(deep, alphaTex)), f(0.02)), add(spread(deep), f(0.02))));

  // Edges: alpha is proportional to G, over the local subject contrast M = G / alpha measured on
  // nearby interior pixels (a global value where none is near); gNoise is G's level on background.
  const bgWeight = nchw(w1);
  const gNoise = div(sumAll(mul(Gs, bgWeight)), add(sumAll(bgWeight), f(1e-6)));
  const kappa = 0.05;
  const proportional = (inner: string): string => {
    const gInt = mul(Gs, inner);
    const aInt = mul(alphaIn, inner);
    const mGlobal = div(add(sumAll(gInt), f(1e-3)), add(sumAll(aInt), f(1e-3)));
    const contrast = div(add(boxR(gInt, s.contrastRadius), mul(mGlobal, f(kappa))), add(boxR(aInt, s.contrastRadius), f(kappa)));
    return g.op('Clip', [div(sub(Gs, gNoise), g.op('Max', [sub(contrast, gNoise), f(1e-3)])), f(0), f(1)]);
  };
  // A difference far above the noise already shows at alpha ~0.05, so "confident" alone reaches
  // into soft edges: take a first estimate from well inside, then call interior what that
  // estimate finds (nearly) opaque.
  const firstGuess = proportional(erode(conf, 2));
  const edgeReach = Math.max(1, Math.round(s.edgeWidth / k));
  // Camouflage: inside a subject, patches that match the plate (a dark panel over a dark window,
  // corrugation over corrugation) are holes when subject lies on all four sides of them within
  // reach; a notch open to one side (the gap between strands of hair, between branches) is not.
  const R = Math.max(1, Math.round(s.enclosedReach * w));
  const ray = (pads: number[]) => g.op('MaxPool', [significant], { kernel_shape: [pads[0]! + pads[2]! + 1, pads[1]! + pads[3]! + 1], pads });
  const enclosed = g.op('Min', [ray([0, R, 0, 0]), ray([0, 0, 0, R]), ray([R, 0, 0, 0]), ray([0, 0, R, 0])]);
  // Only where the frame's pixels differ from the plate's more than noise does (the block means
  // match but the texture does not): a gap that shows the plate itself stays background.
  const texDiff = ramp(div(Gs, add(gNoise, f(1e-4))), s.textureMismatch[0], s.textureMismatch[1]);
  const filled = g.op('Max', [significant, mul(enclosed, texDiff)]);
  // Far from any background, a subject whose own texture makes G dip is still opaque.
  const interior = mul(erode(filled, 1), g.op('Max', [erode(ramp(firstGuess, 0.5, 0.8), 1), erode(filled, edgeReach)]));
  const alphaProj = proportional(interior);

  // Coarse alpha: the interior's estimate inside, the proportional estimate elsewhere (gated by
  // significance), and holes that closing fills (the subject matching the plate) as opaque.
  let coarse = add(mul(interior, alphaIn), mul(sub(f(1), interior), mul(alphaProj, significant)));
  if (s.closeRadius > 0) {
    const holes = sub(erode(dilate(interior, s.closeRadius), s.closeRadius), interior);
    coarse = g.op('Max', [coarse, holes]);
  }

  if (spec.debug) {
    const dbg = { conf, significant, filled, texDiff, alphaIn, firstGuess, interior, alphaProj, coarse };
    for (const [name, value] of Object.entries(dbg)) g.output(`debug_${name}`, value, 'float', [1, 1, h, w]);
  }

  // --- guided filter coefficients at low resolution ------------------------------------------
  const r = s.radius;
  const box = (x: string) => boxR(x, r);
  const stats = box(g.op('Concat', [Gs, coarse, g.op('Mul', [Gs, coarse]), sq(Gs)], { axis: 1 }));
  const [mG, mP, mGP, mGG] = g.opN('Split', [stats, g.int64([1, 1, 1, 1])], 4, { axis: 1 });
  const cov = g.op('Sub', [mGP!, g.op('Mul', [mG!, mP!])]);
  const variance = g.op('Sub', [mGG!, sq(mG!)]);
  const a = g.op('Div', [cov, g.op('Add', [variance, f(s.eps)])]);
  const b = g.op('Sub', [mP!, g.op('Mul', [a, mG!])]);
  const [boxA, boxB] = g.opN('Split', [box(g.op('Concat', [a, b], { axis: 1 })), g.int64([1, 1])], 2, { axis: 1 });
  // Where the low-resolution pass is sure (well inside the subject: its interior alpha; well away from any
  // difference), pin the result to 1 or 0: a noisy guide would otherwise carry its noise into
  // alpha through windows that touch an edge. Folded into the coefficients, so it costs nothing
  // at full resolution.
  const inner = interior;
  const outer = erode(sub(f(1), significant), 1);
  const keep = g.op('Relu', [sub(sub(f(1), inner), outer)]);
  let coef = g.op('Concat', [mul(boxA!, keep), add(mul(boxB!, keep), mul(inner, alphaIn))], { axis: 1 }); // (1,2,h,w)

  // Error map: where the refined low-resolution alpha disagrees with the coarse decision, or the
  // decision itself is uncertain.
  const [cA, cB] = g.opN('Split', [coef, g.int64([1, 1])], 2, { axis: 1 });
  const refinedLow = g.op('Clip', [g.op('Add', [g.op('Mul', [cA!, Gs]), cB!]), f(0), f(1)]);
  const uncertain = g.op('Mul', [g.op('Mul', [coarse, g.op('Sub', [f(1), coarse])]), f(4)]);
  const err = g.op('Max', [g.op('Abs', [g.op('Sub', [refinedLow, coarse])]), uncertain]);
  g.output('err', g.op('Reshape', [g.op('QuantizeLinear', [err, f(1 / 255), g.uint8(0)]), g.int64([h, w])]), 'uint8', [h, w]);

  // Resize in 'asymmetric' mode is ~3x faster than 'half_pixel' here; it samples (k-1)/(2k)
  // low-resolution pixels too far right/down, so shift the map by that much first (exact for
  // bilinear interpolation away from the border).
  if (k > 1) {
    const t = (k - 1) / (2 * k);
    const kern = [t * t, t * (1 - t), (1 - t) * t, (1 - t) * (1 - t)];
    coef = g.op('Conv', [g.op('Pad', [coef, g.int64([0, 0, 1, 1, 0, 0, 0, 0])], { mode: 'edge' }), g.float([...kern, ...kern], [2, 1, 2, 2])], { group: 2 });
  }
  // Each map resized on its own: splitting one resized 2-channel tensor would copy both planes.
  const [lowA, lowB] = g.opN('Split', [coef, g.int64([1, 1])], 2, { axis: 1 });
  const upsample = (x: string) => g.op('Squeeze', [k > 1 ? g.op('Resize', [x, '', '', g.int64([1, 1, Hp, Wp])], { mode: 'linear', coordinate_transformation_mode: 'asymmetric' }) : x, axes(0)]);
  const A = upsample(g.op('Mul', [lowA!, f(gUnit)]));
  const Bc = upsample(lowB!); // (1,Hp,Wp) each
  let q = g.op('Add', [g.op('Mul', [A, G]), Bc]); // alpha, unclamped
  if (s.hardEdges) {
    // Hard edges: along the rim of the solid interior the guided filter's alpha is linear in G, so
    // a textured subject's own texture reads as transparency there. The compositing equation with
    // one subject colour F (the mean of the solid interior nearby) says more: alpha is the
    // projection of I - B onto F - B. The band where that is tried: near the interior, not deep in
    // it (where the pinned coefficients already give alphaIn), where the frame differs from the plate
    // (a cast shadow does not), and where a solid interior is near enough to give F (a veil's
    // interior is see-through: its mixed colour is no F).
    const solid = mul(interior, ramp(alphaIn, 0.9, 0.97));
    const near = boxR(solid, s.contrastRadius);
    const colour = div(boxR(mul(nchw(Is), solid), s.contrastRadius), add(near, f(1e-3))); // (1,3,h,w)
    const differs = shadowLike ? mul(texDiff, sub(f(1), nchw(shadowLike))) : texDiff;
    const evidence = g.op('Max', [g.op('Max', [significant, interior]), differs]);
    const rim = mul(sub(f(1), erode(interior, s.radius)), dilate(interior, s.hardReach));
    const band = mul(mul(rim, ramp(near, 0.05, 0.2)), evidence);
    q = hardEdges(g, { planes: framePlate, gain, pointVar, band, colour, alpha: q, geo, settings: s });
    if (spec.debug) g.output('debug_band', band, 'float', [1, 1, h, w]);
  }
  const crop = (x: string, c: number) => (Hp === H && Wp === W ? x : g.op('Slice', [x, g.int64([0, 0, 0]), g.int64([c, H, W]), g.int64([0, 1, 2])]));
  const alpha8 = crop(g.op('QuantizeLinear', [q, f(1 / 255), g.uint8(0)]), 1); // saturates to 0..255
  g.output('alpha', g.op('Reshape', [alpha8, g.int64([H, W])]), 'uint8', [H, W]);

  if (spec.foreground) {
    // F = I + D * (1 - alpha) / alpha, with alpha bounded below: where alpha is tiny the colour
    // does not show and the division would only amplify noise. In levels, quantised with scale 1.
    const alpha = g.op('Clip', [q, f(s.minAlphaForeground), f(1)]);
    const c = g.op('Mul', [g.op('Sub', [g.op('Reciprocal', [alpha]), f(1)]), f(1 / GAIN_SCALE)]); // D is in levels x GAIN_SCALE
    const Df = g.op('Squeeze', [g.op('Cast', [Dint], { to: 1 }), axes(0)]);
    const F = g.op('Add', [g.op('Cast', [S], { to: 1 }), g.op('Mul', [Df, c])]);
    // Colour under a transparent alpha is never seen: zero it where the low-resolution pass pinned
    // alpha to exactly 0 (well away from any edge, so edge colours stay for whoever grows the
    // matte), and encoders do not spend bits and CPU on the plate's texture there (ProRes 4444:
    // 112 -> 46 ms per 1080p frame, 2.6 -> 0.2 MB, measured with the clip bench).
    const visible = crop(g.op('Not', [g.op('Equal', [q, f(0)])]), 1);
    const F8 = g.op('Where', [visible, crop(g.op('QuantizeLinear', [F, f(1), g.uint8(0)]), 3), g.uint8(0)]);
    const planes = g.op('Reshape', [g.op('Concat', [F8, alpha8], { axis: 0 }), g.int64([4, H * W])]);
    const rgba = g.op('Reshape', [g.op('Transpose', [planes], { perm: [1, 0] }), g.int64([H, W, 4])]);
    g.output('fgr', rgba, 'uint8', [H, W, 4]);
  }
  return { bytes: g.toBytes(`plate model ${W}x${H}x${C} k=${k}`), factor: k, errorWidth: w, errorHeight: h };
}
