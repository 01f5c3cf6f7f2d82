/**
 * 3×3 linear algebra in double precision for colour work: products, inverses, Cholesky and the
 * symmetric eigendecomposition (cyclic Jacobi). Matrices are row-major arrays of 9 numbers.
 */

/** A 3×3 matrix, row-major: `m[3 * row + col]`. */
export type Mat3 = readonly number[];

/** The identity matrix. */
export const IDENTITY3: Mat3 = [1, 0, 0, 0, 1, 0, 0, 0, 1];

/** The product a·b. */
export function mul3(a: Mat3, b: Mat3): number[] {
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      out[3 * r + c] = a[3 * r] * b[c] + a[3 * r + 1] * b[3 + c] + a[3 * r + 2] * b[6 + c];
    }
  }
  return out;
}

/** The product m·v of a matrix and a 3-vector. */
export function apply3(m: Mat3, v: readonly number[]): [number, number, number] {
  return [
    m[0] * v[0] + m[1] * v[1] + m[2] * v[2],
    m[3] * v[0] + m[4] * v[1] + m[5] * v[2],
    m[6] * v[0] + m[7] * v[1] + m[8] * v[2],
  ];
}

/** The inverse of m (adjugate / determinant); throws a RangeError when m is singular. */
export function invert3(m: Mat3): number[] {
  const [a, b, c, d, e, f, g, h, i] = m;
  const A = e * i - f * h, B = -(d * i - f * g), C = d * h - e * g;
  const det = a * A + b * B + c * C;
  const scale = Math.max(...m.map(Math.abs));
  if (!(Math.abs(det) > 1e-300) || Math.abs(det) < 1e-14 * scale ** 3) {
    throw new RangeError(`matrix is singular (determinant ${det})`);
  }
  const adj = [
    A,
    -(b * i - c * h),
    b * f - c * e,
    B,
    a * i - c * g,
    -(a * f - c * d),
    C,
    -(a * h - b * g),
    a * e - b * d,
  ];
  return adj.map((x) => x / det);
}

/**
 * The lower-triangular Cholesky factor L of a symmetric positive-definite matrix (m = L·Lᵀ).
 * Throws a RangeError when a pivot is not positive (regularize the matrix first).
 */
export function cholesky3(m: Mat3): number[] {
  const l = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c <= r; c++) {
      let s = m[3 * r + c];
      for (let k = 0; k < c; k++) s -= l[3 * r + k] * l[3 * c + k];
      if (r === c) {
        if (!(s > 0)) throw new RangeError(`matrix is not positive definite (pivot ${s})`);
        l[3 * r + r] = Math.sqrt(s);
      } else {
        l[3 * r + c] = s / l[3 * c + c];
      }
    }
  }
  return l;
}

/** Eigenvalues (ascending) and the matching unit eigenvectors as the columns of `vectors`. */
export interface SymmetricEigen {
  /** Eigenvalues λ₀ ≤ λ₁ ≤ λ₂. */
  readonly values: [number, number, number];
  /** Row-major U whose column k is the eigenvector of λ_k, so m = U·diag(λ)·Uᵀ. */
  readonly vectors: number[];
}

/**
 * Eigendecomposition of a symmetric 3×3 matrix by cyclic Jacobi rotations (Golub & Van Loan §8.5),
 * run until the off-diagonal part is below 1e-15 of the matrix norm (quadratic convergence: a few sweeps).
 */
export function symmetricEigen3(m: Mat3): SymmetricEigen {
  const a = [...m];
  const v = [...IDENTITY3];
  const norm = Math.sqrt(a.reduce((s, x) => s + x * x, 0));
  for (let sweep = 0; sweep < 50; sweep++) {
    const off = Math.sqrt(2 * (a[1] ** 2 + a[2] ** 2 + a[5] ** 2));
    if (off <= 1e-15 * norm || off === 0) break;
    for (const [p, q] of [[0, 1], [0, 2], [1, 2]]) {
      const apq = a[3 * p + q];
      if (apq === 0) continue;
      // Rotation angle zeroing a[p][q]: t = tan θ, the smaller root of t² + 2τt − 1 = 0.
      const tau = (a[3 * q + q] - a[3 * p + p]) / (2 * apq);
      const t = Math.sign(tau || 1) / (Math.abs(tau) + Math.sqrt(1 + tau * tau));
      const c = 1 / Math.sqrt(1 + t * t), s = t * c;
      for (let k = 0; k < 3; k++) {
        // a ← a·J (columns p, q), then a ← Jᵀ·a (rows p, q); v ← v·J.
        const akp = a[3 * k + p], akq = a[3 * k + q];
        a[3 * k + p] = c * akp - s * akq;
        a[3 * k + q] = s * akp + c * akq;
      }
      for (let k = 0; k < 3; k++) {
        const apk = a[3 * p + k], aqk = a[3 * q + k];
        a[3 * p + k] = c * apk - s * aqk;
        a[3 * q + k] = s * apk + c * aqk;
      }
      for (let k = 0; k < 3; k++) {
        const vkp = v[3 * k + p], vkq = v[3 * k + q];
        v[3 * k + p] = c * vkp - s * vkq;
        v[3 * k + q] = s * vkp + c * vkq;
      }
    }
  }
  const order = [0, 1, 2].sort((i, j) => a[4 * i] - a[4 * j]);
  const values = order.map((i) => a[4 * i]) as [number, number, number];
  const vectors = new Array<number>(9);
  for (let r = 0; r < 3; r++) {
    for (let k = 0; k < 3; k++) vectors[3 * r + k] = v[3 * r + order[k]];
  }
  return { values, vectors };
}

/**
 * f(m) = U·diag(f(λ))·Uᵀ for a symmetric m; e.g. the symmetric square root with f = √.
 * Eigenvalues below zero (rounding on a positive semi-definite matrix) are clamped to zero first.
 */
export function symmetricFunction3(m: Mat3, f: (lambda: number) => number): number[] {
  const { values, vectors: u } = symmetricEigen3(m);
  const d = values.map((l) => f(Math.max(l, 0)));
  const out = new Array<number>(9).fill(0);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) {
      let s = 0;
      for (let k = 0; k < 3; k++) s += u[3 * r + k] * d[k] * u[3 * c + k];
      out[3 * r + c] = s;
    }
  }
  return out;
}
