import assert from "node:assert/strict";
import type { VectorOps } from "../../../src/neural/engines/engine.ts";
import { hostVectorOps } from "../../../src/neural/engines/host_vector_ops.ts";
import { lbfgs } from "../../../src/neural/optim/lbfgs.ts";
import { illConditionedQuadratic, rosenbrock } from "./_problems.ts";

/**
 * SHA-256 (first 16 bytes) of every iterate's bytes, 60 iterations, m = 5, as the L-BFGS before
 * batched read-backs produced them (recorded from that code on host vectors, x86-64).
 */
const PREVIOUS: Record<string, { evaluations: number; hash: string }> = {
  "none rosenbrock": { evaluations: 61, hash: "e376ff6ff217a5004ed317a629f59d59" },
  "none quadratic": { evaluations: 61, hash: "9743ab6fe5374d8b800e0d1a5897bff6" },
  "strong_wolfe rosenbrock": { evaluations: 75, hash: "9548ef1affd7b4b1361c2a5cf8c70eef" },
  "strong_wolfe quadratic": { evaluations: 67, hash: "332183bcccfb52b61b202db3194acae5" },
};

/** Host ops that batch (`dots`) and run the two-loop recursion "on the device", counting syncs. */
function batchingOps(): { ops: VectorOps<Float32Array>; readBacks: () => number } {
  let readBacks = 0;
  const base = hostVectorOps;
  const ops: VectorOps<Float32Array> = {
    ...base,
    dot(a, b) {
      readBacks++;
      return base.dot(a, b);
    },
    async dots(pairs) {
      readBacks++;
      const out: number[] = [];
      for (const [a, b] of pairs) out.push(await base.dot(a, b));
      return out;
    },
    toArray(x) {
      readBacks++;
      return base.toArray(x);
    },
    lbfgsDirection(g, s, y, rho, gamma) {
      // The recursion as VectorOps documents it, with host scalars that never count as a sync.
      const dot = (a: Float32Array, b: Float32Array) => {
        let acc = 0;
        for (let i = 0; i < a.length; i++) acc += a[i] * b[i];
        return acc;
      };
      let q = base.scale(-1, g);
      const alpha: number[] = [];
      for (let i = s.length - 1; i >= 0; i--) {
        alpha[i] = dot(s[i], q) * rho[i];
        q = base.axpy(-alpha[i], y[i], q);
      }
      let r = base.scale(gamma, q);
      for (let i = 0; i < s.length; i++) {
        const beta = dot(y[i], r) * rho[i];
        r = base.axpy(alpha[i] - beta, s[i], r);
      }
      return r;
    },
  };
  return { ops, readBacks: () => readBacks };
}

async function fingerprint(
  ops: VectorOps<Float32Array>,
  lineSearch: "none" | "strong_wolfe",
  problem: "rosenbrock" | "quadratic",
): Promise<{ evaluations: number; hash: string }> {
  const x0 = new Float32Array(10);
  if (problem === "rosenbrock") { for (let i = 0; i < 10; i++) x0[i] = i % 2 === 0 ? -1.2 : 1; }
  const objective = problem === "rosenbrock"
    ? rosenbrock()
    : illConditionedQuadratic(10, 1e4, 7).objective;
  const bytes: number[] = [];
  const { state } = await lbfgs(objective, ops, x0, {
    maxIterations: 60,
    historySize: 5,
    lineSearch,
    tolerance: 0,
  }, { onIteration: (i) => void bytes.push(...new Uint8Array(i.x.slice().buffer)) });
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", new Uint8Array(bytes)));
  const hash = [...digest.subarray(0, 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
  return { evaluations: state.evaluations, hash };
}

for (const key of Object.keys(PREVIOUS)) {
  const [lineSearch, problem] = key.split(" ") as ["none" | "strong_wolfe", "rosenbrock"];
  Deno.test(`lbfgs (${key}): iterates bit-identical to the unbatched algorithm`, async () => {
    assert.deepEqual(await fingerprint(hostVectorOps, lineSearch, problem), PREVIOUS[key]);
    assert.deepEqual(await fingerprint(batchingOps().ops, lineSearch, problem), PREVIOUS[key]);
  });
}

Deno.test("lbfgs with batched dots and a device-side direction syncs once per fixed step", async () => {
  const { ops, readBacks } = batchingOps();
  const x0 = new Float32Array(10).map((_, i) => (i % 2 === 0 ? -1.2 : 1));
  const { state } = await lbfgs(rosenbrock(), ops, x0, {
    maxIterations: 40,
    historySize: 5,
    tolerance: 0,
  });
  assert.equal(state.iteration, 40);
  // ‖g₀‖ once, g₀'s L1 norm for the first step once, then one batch per iteration.
  assert.equal(readBacks(), 2 + 40);
});

Deno.test("lbfgs drops a speculative non-descent step without counting or leaking it", async () => {
  // f = −x·x has ∇f = −2x; an ops whose direction is +g is never a descent direction.
  const objective = {
    evaluate(x: Float32Array) {
      const grad = x.map((v) => -2 * v);
      return Promise.resolve({ loss: -x.reduce((a, v) => a + v * v, 0), grad, terms: {} });
    },
  };
  const ops: VectorOps<Float32Array> = {
    ...hostVectorOps,
    lbfgsDirection: (g) => hostVectorOps.clone(g),
  };
  const x0 = Float32Array.of(1, 2);
  const { state, reason } = await lbfgs(objective, ops, x0, { maxIterations: 5 });
  assert.equal(reason, "tolerance");
  assert.equal(state.iteration, 0);
  assert.equal(state.evaluations, 1);
  assert.deepEqual([...state.x], [1, 2]);
});
