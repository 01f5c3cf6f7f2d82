/**
 * The tfjs engines' batched read-back (`dots`) and device-side L-BFGS direction against host
 * arithmetic: cpu and wasm always, webgpu where navigator.gpu has an adapter.
 */
import assert from "node:assert/strict";
import * as tf from "@tensorflow/tfjs-core";
import type { Engine, VectorOps } from "../../../../src/neural/engines/engine.ts";
import { hostVectorOps } from "../../../../src/neural/engines/host_vector_ops.ts";
import { tfjsCpuProvider } from "../../../../src/neural/engines/tfjs/cpu.ts";
import { tfjsWasmProvider } from "../../../../src/neural/engines/tfjs/wasm.ts";
import { tfjsWebgpuProvider } from "../../../../src/neural/engines/tfjs/webgpu.ts";
import { Prng } from "../../../../src/util/prng.ts";

const N = 1000;
const vectors = (seed: number, count: number) => {
  const rng = new Prng(seed);
  return Array.from({ length: count }, () => rng.fillUniform(new Float32Array(N), -1, 1));
};

/** The host two-loop recursion with float64 scalars (the reference). */
function hostDirection(
  g: Float32Array,
  s: Float32Array[],
  y: Float32Array[],
  rho: number[],
  gamma: number,
) {
  const dot = (a: Float32Array, b: Float32Array) => a.reduce((acc, v, i) => acc + v * b[i], 0);
  let q = hostVectorOps.scale(-1, g);
  const alpha: number[] = [];
  for (let i = s.length - 1; i >= 0; i--) {
    alpha[i] = dot(s[i], q) * rho[i];
    q = hostVectorOps.axpy(-alpha[i], y[i], q);
  }
  let r = hostVectorOps.scale(gamma, q);
  for (let i = 0; i < s.length; i++) {
    r = hostVectorOps.axpy(alpha[i] - dot(y[i], r) * rho[i], s[i], r);
  }
  return r;
}

async function checkOps(engine: Engine) {
  const vec = engine.vec as VectorOps<unknown>;
  const [a, b, c] = vectors(1, 3).map((v) => vec.fromArray(v));
  const pairs: [unknown, unknown][] = [[a, b], [b, c], [c, c]];
  const single = [];
  for (const [u, v] of pairs) single.push(await vec.dot(u, v));
  assert.deepEqual(await vec.dots!(pairs), single);
  assert.deepEqual(await vec.dots!([]), []);

  // A history whose pairs have positive curvature, as L-BFGS keeps them.
  const [g, ...rest] = vectors(2, 7);
  const s = rest.slice(0, 3), y = s.map((v, i) => v.map((e, j) => 2 * e + 0.1 * rest[3 + i][j]));
  const rho = s.map((v, i) => 1 / v.reduce((acc, e, j) => acc + e * y[i][j], 0));
  const gamma = 0.37;
  const before = tf.memory().numTensors;
  const dv = vec.lbfgsDirection!(
    vec.fromArray(g),
    s.map(vec.fromArray),
    y.map(vec.fromArray),
    rho,
    gamma,
  );
  const d = await vec.toArray(dv);
  const expected = hostDirection(g, s, y, rho, gamma);
  const scale = Math.max(...expected.map(Math.abs));
  const err = Math.max(...d.map((v, i) => Math.abs(v - expected[i])));
  assert.ok(err / scale < 1e-5, `${engine.name}: direction error ${err / scale}`);
  // Inputs (1 + 3 + 3) and the result are the only new tensors: every temporary was released.
  assert.equal(tf.memory().numTensors - before, 8);
}

for (const provider of [tfjsCpuProvider, tfjsWasmProvider]) {
  Deno.test(`${provider.name}: dots equals dot per pair; lbfgsDirection matches the host recursion`, async () => {
    const engine = await provider.create();
    try {
      await checkOps(engine);
    } finally {
      await engine.dispose();
    }
  });
}

const hasAdapter = await tfjsWebgpuProvider.available();
if (!hasAdapter) console.log("webgpu vector ops test skipped: navigator.gpu has no adapter here");
Deno.test({
  name: "webgpu: dots equals dot per pair; lbfgsDirection matches the host recursion",
  ignore: !hasAdapter,
  sanitizeResources: false,
  async fn() {
    const engine = await tfjsWebgpuProvider.create();
    try {
      await checkOps(engine);
    } finally {
      await engine.dispose();
    }
  },
});
