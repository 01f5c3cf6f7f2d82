import assert from "node:assert/strict";
import type { Objective } from "../../../src/neural/engines/engine.ts";
import { hostVectorOps as ops } from "../../../src/neural/engines/host_vector_ops.ts";
import { hasConverged, pushLoss } from "../../../src/neural/optim/convergence.ts";
import { optimizerFor, type OptimizerSettings } from "../../../src/neural/optim/optimizer.ts";

Deno.test("hasConverged: relative decrease over the window, not one step", () => {
  const rule = { tolerance: 0.01, window: 2 };
  let w: number[] = [];
  const seen: boolean[] = [];
  // A flat step (10 → 10) inside a falling run does not stop it; 5 → 4.98 → 4.96 does (0.8 %).
  for (const loss of [20, 10, 10, 5, 4.98, 4.96]) {
    w = pushLoss(w, loss, rule);
    seen.push(hasConverged(w, rule));
  }
  assert.deepEqual(seen, [false, false, false, false, false, true]);
  assert.deepEqual(w, [5, 4.98, 4.96]);
  assert.equal(hasConverged([1, 1, 1], { tolerance: 0, window: 2 }), false); // 0: off
  assert.equal(hasConverged([1, 2, 3], rule), true); // a rising loss has converged too
  assert.equal(hasConverged([1, NaN, NaN], rule), false);
});

/**
 * f(x) = 1 + max(x, 0): Adam's bias-corrected step on a constant gradient is lr (to 1e-8), so
 * from x₀ = 10 with lr 1 the loss after iteration t is 11 − t up to t = 9, then 1 + ~1e-7 at 10 and 1 from
 * iteration 11 on.
 */
const hinge: Objective<Float32Array> = {
  evaluate: (x) =>
    Promise.resolve({
      loss: 1 + Math.max(x[0], 0),
      grad: Float32Array.of(x[0] > 0 ? 1 : 0),
      terms: {},
    }),
};

const ADAM: OptimizerSettings = {
  name: "adam",
  iterations: 50,
  learningRate: 1,
  historySize: 1,
  lineSearch: "none",
  convergence: { tolerance: 0.01, window: 3 },
};

Deno.test("the convergence stop fires at the first iteration whose window is flat", async () => {
  const handle = optimizerFor(hinge, ops, ADAM);
  const state = await handle.start(Float32Array.of(10));
  const losses: number[] = [];
  const { reason } = await handle.continue(state, {
    onIteration: ({ loss }) => void losses.push(loss),
  });
  // Iteration 13 is the first with L[t−3] − L[t] < 1 % of L[t−3]: L[10] ≈ 1, L[13] = 1.
  assert.equal(reason, "tolerance");
  assert.equal(state.iteration, 13);
  assert.deepEqual(losses.slice(8).map((l) => Math.round(l * 1e3) / 1e3), [2, 1, 1, 1, 1]);
});

Deno.test("the convergence stop never ends a still-falling run", async () => {
  // f(x) = 1 + x: the loss falls by exactly 1 per iteration for all 50 (3 per window, ≥ 1 %
  // of any loss below 300 in magnitude).
  const linear: Objective<Float32Array> = {
    evaluate: (x) => Promise.resolve({ loss: 1 + x[0], grad: Float32Array.of(1), terms: {} }),
  };
  const handle = optimizerFor(linear, ops, ADAM);
  const state = await handle.start(Float32Array.of(10));
  const { reason } = await handle.continue(state, {});
  assert.equal(reason, "iterations");
  assert.equal(state.iteration, 50);
});

Deno.test("a run resumed from a checkpoint stops at the same iteration", async () => {
  const handle = optimizerFor(hinge, ops, ADAM);
  let saved: unknown;
  const first = await handle.start(Float32Array.of(10));
  await handle.continue(first, {
    onIteration: async ({ iteration, state }) => {
      if (iteration === 11) saved = structuredClone(await handle.save(state));
      return iteration < 11;
    },
  });
  const resumed = handle.restore(saved);
  assert.deepEqual(resumed.losses.length, 4);
  const { reason } = await handle.continue(resumed, {});
  assert.equal(reason, "tolerance");
  assert.equal(resumed.iteration, 13);
});
