// Small numerics for the alignment fits: dense linear algebra (at most 8 unknowns) and a robust scale.

/** Solves A x = b (A n x n, row-major) by Gaussian elimination with partial pivoting; undefined when singular. */
export function solveLinear(a: number[], b: number[], n: number): number[] | undefined {
  const m = a.slice();
  const x = b.slice();
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r * n + col]!) > Math.abs(m[pivot * n + col]!)) pivot = r;
    if (Math.abs(m[pivot * n + col]!) < 1e-12) return undefined;
    if (pivot !== col) {
      for (let c = 0; c < n; c++) [m[col * n + c], m[pivot * n + c]] = [m[pivot * n + c]!, m[col * n + c]!];
      [x[col], x[pivot]] = [x[pivot]!, x[col]!];
    }
    for (let r = col + 1; r < n; r++) {
      const f = m[r * n + col]! / m[col * n + col]!;
      if (f === 0) continue;
      for (let c = col; c < n; c++) m[r * n + c]! -= f * m[col * n + c]!;
      x[r]! -= f * x[col]!;
    }
  }
  for (let r = n - 1; r >= 0; r--) {
    let s = x[r]!;
    for (let c = r + 1; c < n; c++) s -= m[r * n + c]! * x[c]!;
    x[r] = s / m[r * n + r]!;
  }
  return x.every(Number.isFinite) ? x : undefined;
}

/** Accumulates weighted least-squares normal equations for `n` unknowns. */
export class NormalEquations {
  private readonly ata: number[];
  private readonly atb: number[];

  constructor(readonly n: number) {
    this.ata = new Array<number>(n * n).fill(0);
    this.atb = new Array<number>(n).fill(0);
  }

  add(row: readonly number[], target: number, weight = 1): void {
    const n = this.n;
    for (let i = 0; i < n; i++) {
      const wi = weight * row[i]!;
      if (wi === 0) continue;
      this.atb[i]! += wi * target;
      for (let j = i; j < n; j++) this.ata[i * n + j]! += wi * row[j]!;
    }
  }

  solve(): number[] | undefined {
    const n = this.n;
    const full = this.ata.slice();
    for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) full[i * n + j] = full[j * n + i]!;
    return solveLinear(full, this.atb, n);
  }
}

/** Median of |values| from a histogram of 0.25-level bins (64 levels and beyond share the last): O(n), no sort. */
export function medianAbs(values: ArrayLike<number>): number {
  const bins = new Uint32Array(257);
  const last = bins.length - 1;
  for (let k = 0; k < values.length; k++) bins[Math.min(last, Math.floor(Math.abs(values[k]!) * 4))]!++;
  let seen = 0;
  const half = values.length / 2;
  for (let b = 0; b <= last; b++) {
    seen += bins[b]!;
    if (seen >= half) return (b + 0.5) / 4;
  }
  return last / 4;
}
