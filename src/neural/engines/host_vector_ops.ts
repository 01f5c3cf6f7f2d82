/**
 * {@link VectorOps} on host memory (Float32Array): plain loops, no engine needed. Used by the CPU
 * engines and by the optimizer tests. Dot products accumulate in float64 so that the L-BFGS
 * curvature scalars (sᵀy, yᵀy) stay accurate for long vectors.
 */
import type { VectorOps } from "./engine.ts";

function sameLength(a: Float32Array, b: Float32Array, op: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${op}: vector lengths differ (${a.length} vs ${b.length})`);
  }
}

/** Host (Float32Array) vector maths; every result is a fresh array. */
export const hostVectorOps: VectorOps<Float32Array> = {
  dot(a, b) {
    sameLength(a, b, "dot");
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
    return Promise.resolve(acc);
  },
  axpy(a, x, y) {
    sameLength(x, y, "axpy");
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = a * x[i] + y[i];
    return out;
  },
  scale(a, x) {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = a * x[i];
    return out;
  },
  sub(x, y) {
    sameLength(x, y, "sub");
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] - y[i];
    return out;
  },
  mul(x, y) {
    sameLength(x, y, "mul");
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] * y[i];
    return out;
  },
  sqrt(x) {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.sqrt(x[i]);
    return out;
  },
  div(x, y, eps) {
    sameLength(x, y, "div");
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] / (y[i] + eps);
    return out;
  },
  clamp(x, lo, hi) {
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.min(hi, Math.max(lo, x[i]));
    return out;
  },
  clone: (x) => x.slice(),
  zerosLike: (x) => new Float32Array(x.length),
  dispose() {},
  toArray: (x) => Promise.resolve(x.slice()),
  fromArray: (a) => a.slice(),
};
