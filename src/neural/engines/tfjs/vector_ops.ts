/**
 * {@link VectorOps} over tfjs tensors: the optimizer's vector maths runs on the backend that holds
 * the tensors (GPU memory for webgpu / tfjs-node-gpu); only `dot` reads a scalar back to the host.
 */
import * as tf from "npm:@tensorflow/tfjs-core@4.22.0";
import type { VectorOps } from "../engine.ts";

/**
 * Vector ops on flat float32 tensors. `activate` is called before every op so the engine's backend is
 * the active one (only one tfjs backend is active per process at a time).
 */
export function tfjsVectorOps(activate: () => void): VectorOps<tf.Tensor> {
  const run = <T extends tf.Tensor>(f: () => T): T => {
    activate();
    return tf.tidy(f);
  };
  return {
    async dot(a, b) {
      const s = run(() => tf.sum(tf.mul(a, b)));
      try {
        return (await s.data())[0];
      } finally {
        s.dispose();
      }
    },
    async dots(pairs) {
      if (pairs.length === 0) return [];
      const s = run(() => tf.stack(pairs.map(([a, b]) => tf.sum(tf.mul(a, b)))));
      try {
        return Array.from(await s.data());
      } finally {
        s.dispose();
      }
    },
    lbfgsDirection(g, s, y, rho, gamma) {
      activate();
      // Each step in its own tidy: only q (or r) and the k scalars αᵢ stay alive.
      const k = s.length;
      const alpha: tf.Tensor[] = new Array(k);
      let q = tf.tidy(() => tf.neg(g));
      for (let i = k - 1; i >= 0; i--) {
        alpha[i] = tf.tidy(() => tf.mul(tf.sum(tf.mul(s[i], q)), rho[i]));
        const next = tf.tidy(() => tf.sub(q, tf.mul(y[i], alpha[i])));
        q.dispose();
        q = next;
      }
      let r = tf.tidy(() => tf.mul(q, gamma));
      q.dispose();
      for (let i = 0; i < k; i++) {
        const next = tf.tidy(() => {
          const beta = tf.mul(tf.sum(tf.mul(y[i], r)), rho[i]);
          return tf.add(r, tf.mul(s[i], tf.sub(alpha[i], beta)));
        });
        r.dispose();
        alpha[i].dispose();
        r = next;
      }
      return r;
    },
    axpy: (a, x, y) => run(() => tf.add(tf.mul(x, a), y)),
    scale: (a, x) => run(() => tf.mul(x, a)),
    sub: (x, y) => run(() => tf.sub(x, y)),
    mul: (x, y) => run(() => tf.mul(x, y)),
    sqrt: (x) => run(() => tf.sqrt(x)),
    div: (x, y, eps) => run(() => tf.div(x, tf.add(y, eps))),
    clamp: (x, lo, hi) => run(() => tf.clipByValue(x, lo, hi)),
    clone: (x) => run(() => tf.clone(x)),
    zerosLike: (x) => run(() => tf.zerosLike(x)),
    dispose: (x) => x.dispose(),
    async toArray(x) {
      activate();
      // The cpu backend hands out its own storage: copy so the caller may mutate the result.
      return Float32Array.from(await x.data() as Float32Array);
    },
    fromArray: (a) => run(() => tf.tensor1d(a.slice(), "float32")),
  };
}
