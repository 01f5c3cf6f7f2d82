import assert from "node:assert/strict";
import type { Objective } from "../../../src/neural/engines/engine.ts";
import { hostVectorOps } from "../../../src/neural/engines/host_vector_ops.ts";
import { lbfgs } from "../../../src/neural/optim/lbfgs.ts";
import { optimizerFor } from "../../../src/neural/optim/optimizer.ts";
import { StateFormatError } from "../../../src/neural/optim/state_codec.ts";

/**
 * f(x) = 1e8 + Σ xᵢ² over 4096 coordinates, with the loss rounded to float32 as the engines return
 * it: near 1e8 float32 resolves only steps of 8, so torch's tiny first step (1/|g|₁) changes the
 * loss by exactly 0 — what a 1024 px render sees.
 */
function offsetQuadratic(): Objective<Float32Array> {
  return {
    evaluate(x) {
      let sum = 0;
      for (const v of x) sum += v * v;
      const grad = x.map((v) => 2 * v);
      return Promise.resolve({ loss: Math.fround(1e8 + sum), grad, terms: {} });
    },
  };
}

Deno.test("plain lbfgs with a loss-change tolerance stops after the first step of such a problem", async () => {
  const x0 = new Float32Array(4096).fill(1);
  const result = await lbfgs(offsetQuadratic(), hostVectorOps, x0, { maxIterations: 20 });
  assert.equal(result.reason, "tolerance");
  assert.equal(result.state.iteration, 1);
});

Deno.test("the recipe optimizer (style-transfer's) runs every iteration it was given", async () => {
  const objective = offsetQuadratic();
  const handle = optimizerFor(objective, hostVectorOps, {
    name: "lbfgs",
    iterations: 20,
    learningRate: 1,
    historySize: 10,
    lineSearch: "none",
  });
  const state = await handle.start(new Float32Array(4096).fill(1));
  const result = await handle.continue(state, {});
  assert.ok(result.state.iteration >= 2, `stopped at ${result.state.iteration}: ${result.reason}`);
  let max = 0;
  for (const v of result.state.x) max = Math.max(max, Math.abs(v));
  assert.ok(max < 1e-3, `x not at the minimum: max |x| = ${max}`);
  handle.dispose(result.state);
});

Deno.test("an optimizer handle refuses another optimizer's state, live or saved", async () => {
  const settings = {
    iterations: 2,
    learningRate: 1,
    historySize: 3,
    lineSearch: "none" as const,
  };
  const lbfgsHandle = optimizerFor(offsetQuadratic(), hostVectorOps, {
    ...settings,
    name: "lbfgs",
  });
  const adamHandle = optimizerFor(offsetQuadratic(), hostVectorOps, { ...settings, name: "adam" });
  const state = await lbfgsHandle.start(new Float32Array(4).fill(1));
  assert.equal(state.kind, "lbfgs");
  await assert.rejects(adamHandle.save(state), StateFormatError);
  const tree = await lbfgsHandle.save(state);
  assert.throws(() => adamHandle.restore(tree), /is for "lbfgs", expected "adam"/);
  const back = lbfgsHandle.restore(tree);
  assert.deepEqual(back, state);
});

Deno.test("strong Wolfe lengthens a first step too short to change the float32 loss", async () => {
  // torch's first step 1/‖g‖₁ moves each of the 4096 coordinates by 1/4096: the loss near 1e8
  // does not change. The search must not zoom into [0, that step] (25 evaluations, a zero step).
  const handle = optimizerFor(offsetQuadratic(), hostVectorOps, {
    name: "lbfgs",
    iterations: 1,
    learningRate: 1,
    historySize: 10,
    lineSearch: "strong_wolfe",
  });
  const state = await handle.start(new Float32Array(4096).fill(1));
  await handle.continue(state, {});
  assert.equal(state.iteration, 1);
  assert.ok(state.loss < 1e8 + 4096 - 1000, `loss ${state.loss}`);
  assert.ok(state.evaluations <= 6, `${state.evaluations} evaluations`);
  handle.dispose(state);
});

Deno.test("firstStep: the first fixed step moves the largest coordinate by firstStep·lr, then converges", async () => {
  // x₀ᵢ = 1 + (i mod 7): the largest, 7, has g = 14, so t = 1/14 moves it to exactly 6.
  const x0 = Float32Array.from({ length: 4096 }, (_, i) => 1 + (i % 7));
  const settings = {
    name: "lbfgs" as const,
    learningRate: 1,
    historySize: 10,
    lineSearch: "none" as const,
    firstStep: 1,
  };
  const one = optimizerFor(offsetQuadratic(), hostVectorOps, { ...settings, iterations: 1 });
  const first = await one.continue(await one.start(x0), {});
  assert.equal(first.state.x[6], 6);
  assert.ok(Math.abs(first.state.x[0] - (1 - 1 / 7)) < 1e-6, `x[0] = ${first.state.x[0]}`);
  assert.ok(first.state.loss < Math.fround(1e8 + 4096 * 20), "the loss fell");
  one.dispose(first.state);

  const run = optimizerFor(offsetQuadratic(), hostVectorOps, { ...settings, iterations: 20 });
  const result = await run.continue(await run.start(x0), {});
  let max = 0;
  for (const v of result.state.x) max = Math.max(max, Math.abs(v));
  assert.ok(max < 1e-3, `x not at the minimum after ${result.state.iteration}: max |x| = ${max}`);
  run.dispose(result.state);
});
