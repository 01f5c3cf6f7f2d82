import assert from "node:assert/strict";
import type { Objective } from "../../../src/neural/engines/engine.ts";
import { hostVectorOps as ops } from "../../../src/neural/engines/host_vector_ops.ts";
import {
  averageFromTree,
  averageTree,
  startAverage,
  updateAverage,
} from "../../../src/neural/optim/average.ts";
import { optimizerFor, type OptimizerSettings } from "../../../src/neural/optim/optimizer.ts";
import { StateFormatError } from "../../../src/neural/optim/state_codec.ts";
import { illConditionedQuadratic, trackedOps } from "./_problems.ts";

/** f(x) = x² in one dimension. */
const square: Objective<Float32Array> = {
  evaluate: (x) =>
    Promise.resolve({ loss: x[0] * x[0], grad: Float32Array.of(2 * x[0]), terms: {} }),
};

const LBFGS: OptimizerSettings = {
  name: "lbfgs",
  iterations: 10,
  learningRate: 1,
  historySize: 5,
  lineSearch: "none",
};

Deno.test("the iterate average of L-BFGS on x² is the hand-computed bias-corrected EMA", async () => {
  // From x₀ = 2: the first step is 1/|g|₁ = 1/4 of −g = −4, so x₁ = 1; with the pair
  // (s, y) = (−1, −2) the quasi-Newton step is exact, x₂ = 0, and ‖g‖ = 0 ends the run.
  // Decay ½: (½·(¼·2 + ½·1 + 1·0)) / (1 − ⅛) = 4/7. Decay 0.9: 0.1·(0.81·2 + 0.9·1) / 0.271.
  for (const [decay, expected] of [[0.5, 4 / 7], [0.9, 0.1 * (0.81 * 2 + 0.9) / 0.271]]) {
    const handle = optimizerFor(square, ops, { ...LBFGS, average: decay });
    const iterates: number[] = [];
    const state = await handle.start(Float32Array.of(2));
    const { reason } = await handle.continue(state, {
      onIteration: ({ x }) => void iterates.push(x[0]),
    });
    assert.equal(reason, "converged");
    assert.deepEqual(iterates, [1, 0]);
    assert.equal(state.average!.count, 3);
    assert.ok(
      Math.abs(state.average!.x[0] - expected) < 1e-7,
      `decay ${decay}: ${state.average!.x[0]} ≠ ${expected}`,
    );
    assert.equal(state.x[0], 0); // the iterate itself is untouched
    handle.dispose(state);
  }
});

Deno.test("decay 0 averages nothing: the average is the last iterate", () => {
  const average = startAverage(ops, Float32Array.of(5, -1), 0);
  updateAverage(ops, average, Float32Array.of(3, 7));
  updateAverage(ops, average, Float32Array.of(-2, 0.5));
  assert.deepEqual(average.x, Float32Array.of(-2, 0.5));
  assert.throws(() => startAverage(ops, Float32Array.of(1), 1), RangeError);
});

Deno.test("an average tree round-trips bit for bit; a damaged one is refused", async () => {
  const average = startAverage(ops, Float32Array.of(0.1, 0.2), 0.99);
  updateAverage(ops, average, Float32Array.of(0.3, -0.7));
  const back = averageFromTree(await averageTree(average, ops), ops);
  assert.deepEqual(back, average);
  assert.throws(
    () => averageFromTree({ decay: 0.99, count: 0, x: average.x }, ops),
    StateFormatError,
  );
});

Deno.test("adam with an average resumes from a saved state bit-identically", async () => {
  const { objective } = illConditionedQuadratic(6, 50, 4);
  const settings: OptimizerSettings = {
    name: "adam",
    iterations: 30,
    learningRate: 0.1,
    historySize: 1,
    lineSearch: "none",
    average: 0.9,
  };
  const handle = optimizerFor(objective, ops, settings);
  const whole = await handle.start(new Float32Array(6));
  await handle.continue(whole, {});

  let saved: unknown;
  const first = await handle.start(new Float32Array(6));
  await handle.continue(first, {
    onIteration: async ({ iteration, state }) => {
      if (iteration === 12) saved = structuredClone(await handle.save(state));
      return iteration < 17; // run on past the save: the restore must not see those iterations
    },
  });
  const resumed = handle.restore(saved);
  assert.equal(resumed.iteration, 12);
  await handle.continue(resumed, {});
  assert.deepEqual(resumed.x, whole.x);
  assert.deepEqual(resumed.average!.x, whole.average!.x);
  assert.equal(resumed.average!.count, 31);
  // An average-less handle refuses the state (and the other way round).
  assert.throws(
    () => optimizerFor(objective, ops, { ...settings, average: 0 }).restore(saved),
    /has an iterate average/,
  );
});

Deno.test("the handle releases the average with the state", async () => {
  const { objective: base } = illConditionedQuadratic(4, 10, 2);
  const { ops: tracked, objective, live } = trackedOps(ops, base);
  const handle = optimizerFor(objective, tracked, { ...LBFGS, average: 0.99 });
  const state = await handle.start(tracked.fromArray(new Float32Array(4)));
  await handle.continue(state, {});
  handle.dispose(state);
  assert.equal(live.size, 1); // the x₀ this test made
});
