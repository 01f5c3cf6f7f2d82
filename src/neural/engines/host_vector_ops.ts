/**
 * {@link VectorOps} on host memory (Float32Array): plain loops, no engine needed. Used by the CPU
 * engines and by the optimizer tests. Dot products accumulate in float64 so that the L-BFGS
 * curvature scalars (sᵀy, yᵀy) stay accurate for long vectors.
 *
 * Arrays these ops created and that are disposed go back to a small pool per length and are
 * reused: the L-BFGS two-loop recursion makes 2m image-sized temporaries per iteration, which the
 * garbage collector would otherwise let pile up (measured: +0.9 GB peak at 512², m = 100). Only
 * the latest length disposed is pooled: a coarse-to-fine run would otherwise keep every smaller
 * scale's arrays alive to the end (4 × 37.7 MB of the 2048 px scale's beside a 4096 px one's).
 */
import type { VectorOps } from "./engine.ts";

function sameLength(a: Float32Array, b: Float32Array, op: string): void {
  if (a.length !== b.length) {
    throw new RangeError(`${op}: vector lengths differ (${a.length} vs ${b.length})`);
  }
}

/** Arrays made by these ops (only those may be pooled: others may be views of foreign memory). */
const owned = new WeakSet<Float32Array>();
/** Disposed arrays of the latest length disposed, at most {@link POOL_PER_LENGTH}. */
const pool = new Map<number, Float32Array[]>();
const POOL_PER_LENGTH = 4;

/** An array of `length` (contents unspecified: every op overwrites all of it). */
function alloc(length: number): Float32Array {
  const reused = pool.get(length)?.pop();
  if (reused) return reused;
  const out = new Float32Array(length);
  owned.add(out);
  return out;
}

/** Host (Float32Array) vector maths; every result is a new (or recycled, disposed) array. */
export const hostVectorOps: VectorOps<Float32Array> = {
  dot(a, b) {
    sameLength(a, b, "dot");
    let acc = 0;
    for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
    return Promise.resolve(acc);
  },
  axpy(a, x, y) {
    sameLength(x, y, "axpy");
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = a * x[i] + y[i];
    return out;
  },
  scale(a, x) {
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = a * x[i];
    return out;
  },
  sub(x, y) {
    sameLength(x, y, "sub");
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] - y[i];
    return out;
  },
  mul(x, y) {
    sameLength(x, y, "mul");
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] * y[i];
    return out;
  },
  sqrt(x) {
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.sqrt(x[i]);
    return out;
  },
  div(x, y, eps) {
    sameLength(x, y, "div");
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = x[i] / (y[i] + eps);
    return out;
  },
  clamp(x, lo, hi) {
    const out = alloc(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.min(hi, Math.max(lo, x[i]));
    return out;
  },
  clone(x) {
    const out = alloc(x.length);
    out.set(x);
    return out;
  },
  zerosLike: (x) => alloc(x.length).fill(0),
  dispose(x) {
    if (!owned.has(x)) return;
    const free = pool.get(x.length) ?? [];
    if (free.length < POOL_PER_LENGTH && !free.includes(x)) free.push(x);
    if (pool.size > 1 || !pool.has(x.length)) pool.clear();
    pool.set(x.length, free);
  },
  toArray: (x) => Promise.resolve(x.slice()),
  fromArray: (a) => a.slice(),
  view: (x) => x,
  adopt: (a) => a,
};
