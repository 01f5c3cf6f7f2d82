import assert from "node:assert/strict";
import { hostVectorOps as ops } from "../../../src/neural/engines/host_vector_ops.ts";
import {
  adam,
  adamContinue,
  type AdamOptions,
  adamStateFromTree,
  adamStateTree,
  disposeAdamState,
} from "../../../src/neural/optim/adam.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../../src/util/checkpoint_codec.ts";
import { illConditionedQuadratic, maxDiff, trackedOps } from "./_problems.ts";

Deno.test("adam finds a quadratic's minimizer", async () => {
  const { objective, minimizer } = illConditionedQuadratic(10, 100, 3);
  const { state, reason } = await adam(objective, ops, new Float32Array(10), {
    maxIterations: 3000,
    learningRate: 0.05,
  });
  assert.equal(reason, "iterations");
  assert.ok(maxDiff(state.x, minimizer) <= 1e-4, `max error ${maxDiff(state.x, minimizer)}`);
});

Deno.test("adam's first step moves every coordinate by lr against the gradient sign", async () => {
  // With bias correction, step 1 is −lr·g/(|g| + ε) ≈ −lr·sign(g).
  const linear = {
    evaluate: (x: Float32Array) =>
      Promise.resolve({ loss: 3 * x[0] - 5 * x[1], grad: Float32Array.from([3, -5]), terms: {} }),
  };
  const { state } = await adam(linear, ops, new Float32Array(2), {
    maxIterations: 1,
    learningRate: 0.25,
  });
  assert.ok(maxDiff(state.x, [-0.25, 0.25]) < 1e-7, `x = ${state.x}`);
});

Deno.test("adam resumes from serialized state bit-identically and releases its vectors", async () => {
  const { objective } = illConditionedQuadratic(6, 50, 9);
  const options: AdamOptions = { maxIterations: 40, learningRate: 0.1 };
  const whole = await adam(objective, ops, new Float32Array(6), options);
  const first = await adam(objective, ops, new Float32Array(6), { ...options, maxIterations: 15 });
  // Through the bytes a checkpoint stores the state tree in.
  const bytes = encodeCheckpoint(await adamStateTree(first.state, ops));
  const restored = adamStateFromTree(decodeCheckpoint(bytes), ops);
  const rest = await adamContinue(objective, ops, restored, options);
  assert.equal(rest.state.iteration, 40);
  assert.deepEqual(rest.state.x, whole.state.x);
  assert.equal(rest.state.loss, whole.state.loss);

  const t = trackedOps(ops, objective);
  const x0 = t.ops.fromArray(new Float32Array(6));
  const tracked = await adam(t.objective, t.ops, x0, options);
  t.ops.dispose(x0);
  assert.equal(t.live.size, 4); // x, g, m, v
  disposeAdamState(tracked.state, t.ops);
  assert.equal(t.live.size, 0);
});
