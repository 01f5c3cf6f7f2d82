import assert from "node:assert/strict";
import { hostVectorOps as ops } from "../../../src/neural/engines/host_vector_ops.ts";
import {
  cubicMinimum,
  disposeLbfgsState,
  lbfgs,
  lbfgsContinue,
  type LbfgsOptions,
  lbfgsStart,
  lbfgsStateFromTree,
  lbfgsStateTree,
} from "../../../src/neural/optim/lbfgs.ts";
import { adamStateFromTree } from "../../../src/neural/optim/adam.ts";
import { decodeCheckpoint, encodeCheckpoint } from "../../../src/util/checkpoint_codec.ts";
import { StateFormatError } from "../../../src/neural/optim/state_codec.ts";
import { illConditionedQuadratic, maxDiff, rosenbrock, trackedOps } from "./_problems.ts";

const lineSearches = ["none", "strong_wolfe"] as const;

function rosenbrockStart(n: number): Float32Array {
  const x = new Float32Array(n);
  for (let i = 0; i < n; i++) x[i] = i % 2 === 0 ? -1.2 : 1; // the classic start
  return x;
}

for (const lineSearch of lineSearches) {
  for (const n of [2, 10]) {
    Deno.test(`lbfgs (${lineSearch}) reaches Rosenbrock's minimum in ${n}-D`, async () => {
      const { state, reason } = await lbfgs(rosenbrock(), ops, rosenbrockStart(n), {
        maxIterations: 500,
        historySize: 10,
        lineSearch,
        tolerance: 0,
      });
      assert.equal(reason, "converged");
      assert.ok(maxDiff(state.x, new Float32Array(n).fill(1)) <= 1e-4, `x = ${state.x}`);
      assert.ok(state.loss < 1e-8);
    });
  }

  Deno.test(`lbfgs (${lineSearch}) finds an ill-conditioned quadratic's minimizer`, async () => {
    const { objective, minimizer } = illConditionedQuadratic(20, 1e4, 7);
    const { state } = await lbfgs(objective, ops, new Float32Array(20), {
      maxIterations: 500,
      lineSearch,
      tolerance: 0,
      gradTolerance: 1e-6,
    });
    assert.ok(maxDiff(state.x, minimizer) <= 1e-4, `max error ${maxDiff(state.x, minimizer)}`);
  });

  Deno.test(`lbfgs (${lineSearch}) releases every vector it does not return`, async () => {
    const t = trackedOps(ops, rosenbrock());
    const x0 = t.ops.fromArray(rosenbrockStart(6));
    const { state } = await lbfgs(t.objective, t.ops, x0, {
      maxIterations: 30,
      historySize: 4,
      lineSearch,
    });
    t.ops.dispose(x0);
    assert.equal(state.s.length, 4);
    assert.equal(t.live.size, 2 + 2 * state.s.length); // x, g and the history
    disposeLbfgsState(state, t.ops);
    assert.equal(t.live.size, 0);
  });

  Deno.test(`lbfgs (${lineSearch}) resumes from serialized state bit-identically`, async () => {
    const { objective } = illConditionedQuadratic(12, 1e3, 3);
    const x0 = new Float32Array(12).fill(0.5);
    const options: LbfgsOptions = { maxIterations: 25, historySize: 5, lineSearch, tolerance: 0 };
    const whole = await lbfgs(objective, ops, x0, options);

    const first = await lbfgs(objective, ops, x0, { ...options, maxIterations: 10 });
    assert.equal(first.reason, "iterations");
    // Through the bytes a checkpoint stores the state tree in.
    const bytes = encodeCheckpoint(await lbfgsStateTree(first.state, ops));
    const restored = lbfgsStateFromTree(decodeCheckpoint(bytes), ops);
    assert.equal(restored.iteration, 10);
    const rest = await lbfgsContinue(objective, ops, restored, options);
    assert.equal(rest.state.iteration, 25);
    assert.deepEqual(rest.state.x, whole.state.x);
    assert.equal(rest.state.loss, whole.state.loss);
    assert.equal(rest.state.evaluations, whole.state.evaluations);
  });
}

Deno.test("lbfgs first step is min(1, 1/|g|₁)·lr without line search", async () => {
  // f = ½‖x‖², g = x: the first step is −t·g with t = 1/|g|₁.
  const quadratic = {
    evaluate: (x: Float32Array) =>
      Promise.resolve({ loss: 0.5 * x.reduce((a, v) => a + v * v, 0), grad: x.slice(), terms: {} }),
  };
  const x0 = Float32Array.from([3, -4]);
  const { state } = await lbfgs(quadratic, ops, x0, { maxIterations: 1, learningRate: 0.5 });
  const t = 0.5 / 7;
  assert.deepEqual(state.x, Float32Array.from([3 - 3 * t, -4 + 4 * t]));
});

Deno.test("lbfgs skips pairs with non-positive curvature", async () => {
  // A concave-then-convex 1-D function: f = −x² near the start gives yᵀs < 0.
  const concave = {
    evaluate: (x: Float32Array) =>
      Promise.resolve({ loss: -x[0] * x[0], grad: Float32Array.from([-2 * x[0]]), terms: {} }),
  };
  const { state } = await lbfgs(concave, ops, Float32Array.from([1]), { maxIterations: 3 });
  assert.equal(state.s.length, 0);
  assert.ok(state.x[0] > 1); // still descending along −g
});

Deno.test("lbfgs stops when onIteration returns false, and on abort", async () => {
  const seen: number[] = [];
  const stopped = await lbfgs(rosenbrock(), ops, rosenbrockStart(2), { maxIterations: 100 }, {
    onIteration: ({ iteration, loss, terms }) => {
      seen.push(iteration);
      assert.equal(terms.loss, loss);
      return iteration < 3;
    },
  });
  assert.equal(stopped.reason, "stopped");
  assert.deepEqual(seen, [1, 2, 3]);

  const controller = new AbortController();
  const aborted = await lbfgs(rosenbrock(), ops, rosenbrockStart(2), { maxIterations: 100 }, {
    signal: controller.signal,
    onIteration: ({ iteration }) => {
      if (iteration === 2) controller.abort();
    },
  });
  assert.equal(aborted.reason, "aborted");
  assert.equal(aborted.state.iteration, 2);
});

Deno.test("lbfgs stops on a small loss change (tolerance)", async () => {
  const { objective } = illConditionedQuadratic(8, 10, 1);
  const { state, reason } = await lbfgs(objective, ops, new Float32Array(8), {
    maxIterations: 1000,
    tolerance: 1e-3,
    gradTolerance: 0,
  });
  assert.equal(reason, "tolerance");
  assert.ok(state.iteration < 1000);
});

Deno.test("an lbfgs state tree is refused as another optimizer's, and when damaged", async () => {
  const state = await lbfgsStart(rosenbrock(), ops, rosenbrockStart(2));
  const tree = await lbfgsStateTree(state, ops);
  assert.throws(() => adamStateFromTree(tree, ops), StateFormatError);
  assert.throws(() => lbfgsStateFromTree({ ...(tree as object), rho: [1] }, ops), StateFormatError);
});

Deno.test("cubicMinimum finds the minimizer of a cubic", () => {
  // f(t) = (t − 1)² has minimum at 1: from f(0)=1, f'(0)=−2, f(3)=4, f'(3)=4.
  assert.ok(Math.abs(cubicMinimum(0, 1, -2, 3, 4, 4) - 1) < 1e-12);
  // Clamped to the bounds given.
  assert.equal(cubicMinimum(0, 1, -2, 3, 4, 4, 2, 5), 2);
});

Deno.test("lbfgs (strong_wolfe) aborted inside a line search drops that step: the state is the last whole iteration", async () => {
  const options: LbfgsOptions = { maxIterations: 100, lineSearch: "strong_wolfe" };
  // The first iteration whose search needs more than one evaluation, and the count before it.
  const counts = [1];
  await lbfgs(rosenbrock(), ops, rosenbrockStart(2), options, {
    onIteration: ({ evaluations }) => void counts.push(evaluations),
  });
  const k = counts.findIndex((n, i) => i > 1 && n - counts[i - 1] > 1);
  assert.ok(k > 1, "some search takes several evaluations");
  const reference = await lbfgs(rosenbrock(), ops, rosenbrockStart(2), {
    ...options,
    maxIterations: k - 1,
  });
  const controller = new AbortController();
  const base = rosenbrock();
  let evaluations = 0;
  const objective = {
    evaluate: (x: Float32Array) => {
      if (++evaluations === counts[k - 1] + 1) controller.abort(); // iteration k's first trial
      return base.evaluate(x);
    },
  };
  const aborted = await lbfgs(objective, ops, rosenbrockStart(2), options, {
    signal: controller.signal,
  });
  assert.equal(aborted.reason, "aborted");
  assert.equal(aborted.state.iteration, k - 1);
  assert.deepEqual([...aborted.state.x], [...reference.state.x]);
  assert.equal(aborted.state.loss, reference.state.loss);
  assert.equal(aborted.state.evaluations, reference.state.evaluations);
});
