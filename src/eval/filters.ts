// Separable filtering of float planes for the evaluation code (the gradient metric, the soft
// shadow perturbation). Borders replicate the edge pixel, so a flat image filters to itself.

/** A float image, one value per pixel, row-major. */
export interface FloatPlane {
  readonly data: Float32Array;
  readonly width: number;
  readonly height: number;
}

/** Convolves rows with `kx`, then columns with `ky` (odd lengths, centred taps). */
export function convolveSeparable(src: FloatPlane, kx: ArrayLike<number>, ky: ArrayLike<number>): FloatPlane {
  const { width: W, height: H } = src;
  const rx = (kx.length - 1) / 2;
  const ry = (ky.length - 1) / 2;
  if (!Number.isInteger(rx) || !Number.isInteger(ry)) throw new Error('filter kernels must have odd lengths');
  const tmp = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    const row = y * W;
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = -rx; k <= rx; k++) {
        const xx = x - k < 0 ? 0 : x - k >= W ? W - 1 : x - k;
        s += kx[k + rx]! * src.data[row + xx]!;
      }
      tmp[row + x] = s;
    }
  }
  const out = new Float32Array(W * H);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      let s = 0;
      for (let k = -ry; k <= ry; k++) {
        const yy = y - k < 0 ? 0 : y - k >= H ? H - 1 : y - k;
        s += ky[k + ry]! * tmp[yy * W + x]!;
      }
      out[y * W + x] = s;
    }
  }
  return { data: out, width: W, height: H };
}

/** Gaussian taps summing to 1, radius 3 sigma (at least 1). */
export function gaussianKernel(sigma: number): Float64Array {
  const r = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float64Array(2 * r + 1);
  let sum = 0;
  for (let i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-(i * i) / (2 * sigma * sigma));
  return k.map((v) => v / sum);
}

/** Gaussian blur (a no-op for sigma <= 0). */
export function gaussianBlur(src: FloatPlane, sigma: number): FloatPlane {
  if (sigma <= 0) return { ...src, data: new Float32Array(src.data) };
  const k = gaussianKernel(sigma);
  return convolveSeparable(src, k, k);
}
