/** Test objectives with known minima, on host vectors, plus a counting wrapper for leak checks. */
import type { Evaluation, Objective, VectorOps } from "../../../src/neural/engines/engine.ts";
import { Prng } from "../../../src/util/prng.ts";

/** Rosenbrock in n dimensions: Σ 100(x_{i+1} − x_i²)² + (1 − x_i)², minimum 0 at (1, …, 1). */
export function rosenbrock(): Objective<Float32Array> {
  return {
    evaluate(x) {
      const n = x.length;
      const grad = new Float64Array(n);
      let loss = 0;
      for (let i = 0; i < n - 1; i++) {
        const a = x[i], b = x[i + 1];
        const r = b - a * a;
        loss += 100 * r * r + (1 - a) * (1 - a);
        grad[i] += -400 * a * r - 2 * (1 - a);
        grad[i + 1] += 200 * r;
      }
      return Promise.resolve(result(loss, grad));
    },
  };
}

/** A quadratic ½(x − c)ᵀA(x − c) with A = Q·diag(λ)·Qᵀ, λ log-spaced over [1, condition]. */
export function illConditionedQuadratic(
  n: number,
  condition: number,
  seed: number,
): { objective: Objective<Float32Array>; minimizer: Float32Array } {
  const rng = new Prng(seed);
  const q = orthogonal(n, rng);
  const lambda = Array.from({ length: n }, (_, i) => condition ** (i / (n - 1)));
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let acc = 0;
      for (let k = 0; k < n; k++) acc += q[i * n + k] * lambda[k] * q[j * n + k];
      a[i * n + j] = acc;
    }
  }
  const minimizer = rng.fillUniform(new Float32Array(n), -2, 2);
  const objective: Objective<Float32Array> = {
    evaluate(x) {
      const grad = new Float64Array(n);
      let loss = 0;
      for (let i = 0; i < n; i++) {
        let acc = 0;
        for (let j = 0; j < n; j++) acc += a[i * n + j] * (x[j] - minimizer[j]);
        grad[i] = acc;
        loss += 0.5 * (x[i] - minimizer[i]) * acc;
      }
      return Promise.resolve(result(loss, grad));
    },
  };
  return { objective, minimizer };
}

/** Q of a seeded Gaussian matrix (modified Gram–Schmidt), row-major n × n. */
function orthogonal(n: number, rng: Prng): Float64Array {
  const m = Float64Array.from({ length: n * n }, () => rng.normal());
  for (let c = 0; c < n; c++) {
    for (let p = 0; p < c; p++) {
      let d = 0;
      for (let r = 0; r < n; r++) d += m[r * n + c] * m[r * n + p];
      for (let r = 0; r < n; r++) m[r * n + c] -= d * m[r * n + p];
    }
    let norm = 0;
    for (let r = 0; r < n; r++) norm += m[r * n + c] ** 2;
    norm = Math.sqrt(norm);
    for (let r = 0; r < n; r++) m[r * n + c] /= norm;
  }
  return m;
}

function result(loss: number, grad: Float64Array): Evaluation<Float32Array> {
  return { loss, grad: Float32Array.from(grad), terms: { loss } };
}

/** Largest |a_i − b_i|. */
export function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/**
 * Host vector ops and an objective wrapper that track which vectors are alive (created and not
 * disposed), to check that an optimizer releases everything it does not hand back.
 */
export function trackedOps(
  base: VectorOps<Float32Array>,
  objective: Objective<Float32Array>,
): { ops: VectorOps<Float32Array>; objective: Objective<Float32Array>; live: Set<Float32Array> } {
  const live = new Set<Float32Array>();
  const track = (v: Float32Array) => (live.add(v), v);
  const ops: VectorOps<Float32Array> = {
    dot: (a, b) => base.dot(a, b),
    axpy: (a, x, y) => track(base.axpy(a, x, y)),
    scale: (a, x) => track(base.scale(a, x)),
    sub: (x, y) => track(base.sub(x, y)),
    mul: (x, y) => track(base.mul(x, y)),
    sqrt: (x) => track(base.sqrt(x)),
    div: (x, y, eps) => track(base.div(x, y, eps)),
    clamp: (x, lo, hi) => track(base.clamp(x, lo, hi)),
    clone: (x) => track(base.clone(x)),
    zerosLike: (x) => track(base.zerosLike(x)),
    dispose: (x) => {
      if (!live.delete(x)) throw new Error("disposed a vector that is not alive");
    },
    toArray: (x) => base.toArray(x),
    fromArray: (a) => track(base.fromArray(a)),
  };
  const wrapped: Objective<Float32Array> = {
    async evaluate(x) {
      if (!live.has(x)) throw new Error("evaluated a disposed vector");
      const e = await objective.evaluate(x);
      return { ...e, grad: track(e.grad) };
    },
  };
  return { ops, objective: wrapped, live };
}
