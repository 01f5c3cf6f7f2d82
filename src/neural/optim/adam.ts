/**
 * Adam (Kingma & Ba 2015) with bias correction, in the form torch's `optim.Adam` uses:
 * x ← x − lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε), written here as
 * x ← x − lr·√(1−β2ᵗ)/(1−β1ᵗ) · m / (√v + ε·√(1−β2ᵗ)) (the same quantity) so it needs only the
 * {@link VectorOps} primitives. Same API shape as L-BFGS: explicit, serializable state.
 */
import { type Objective, readValues, type VectorOps } from "../engines/engine.ts";
import { z } from "npm:zod@4.6.7";
import type { CheckpointValue } from "../../util/checkpoint_codec.ts";
import {
  commonState,
  commonTree,
  readStateTree,
  stateTreeBase,
  vectorSchema,
} from "./state_codec.ts";
import type { OptimizerHooks, OptimizerResult, StopReason } from "./types.ts";

/** Adam settings. */
export interface AdamOptions {
  /** Iterations in total (counted from the state's iteration). */
  readonly maxIterations: number;
  /** Step size. Default 1e-3 (style transfer uses ~10 on the 0–255 pixel scale). */
  readonly learningRate?: number;
  /** First-moment decay. Default 0.9. */
  readonly beta1?: number;
  /** Second-moment decay. Default 0.999. */
  readonly beta2?: number;
  /** Denominator guard. Default 1e-8. */
  readonly eps?: number;
  /** Stop when |Δloss| falls below this. Default 0 (off: Adam's loss is not monotone). */
  readonly tolerance?: number;
}

/** Everything needed to continue a run. Vectors are owned by the state. */
export interface AdamState<V> {
  /** The tag that tells this state from another optimizer's. */
  readonly kind: "adam";
  /** Current iterate. */
  x: V;
  /** ∇f(x). */
  g: V;
  /** f(x). */
  loss: number;
  /** Weighted loss terms at x. */
  terms: Record<string, number>;
  /** First moment estimate. */
  m: V;
  /** Second moment estimate. */
  v: V;
  /** Iterations completed (the bias-correction exponent). */
  iteration: number;
  /** Objective evaluations so far. */
  evaluations: number;
}

/** Hooks for Adam. */
export type AdamHooks<V> = OptimizerHooks<V, AdamState<V>>;

/** Evaluates f at x0 and returns the initial state (x0 is copied). */
export async function adamStart<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  x0: V,
): Promise<AdamState<V>> {
  const x = ops.clone(x0);
  const e = await objective.evaluate(x);
  return {
    kind: "adam",
    x,
    g: e.grad,
    loss: e.loss,
    terms: { ...e.terms },
    m: ops.zerosLike(x),
    v: ops.zerosLike(x),
    iteration: 0,
    evaluations: 1,
  };
}

/** Runs Adam from x0. */
export async function adam<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  x0: V,
  options: AdamOptions,
  hooks: AdamHooks<V> = {},
): Promise<OptimizerResult<AdamState<V>>> {
  if (hooks.signal?.aborted) throw hooks.signal.reason;
  const state = await adamStart(objective, ops, x0);
  return adamContinue(objective, ops, state, options, hooks);
}

/** Continues a run from `state` (taken over and updated in place). */
export async function adamContinue<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  state: AdamState<V>,
  options: AdamOptions,
  hooks: AdamHooks<V> = {},
): Promise<OptimizerResult<AdamState<V>>> {
  const lr = options.learningRate ?? 1e-3;
  const beta1 = options.beta1 ?? 0.9;
  const beta2 = options.beta2 ?? 0.999;
  const eps = options.eps ?? 1e-8;
  const tolerance = options.tolerance ?? 0;
  const stop = (reason: StopReason) => ({ state, reason });

  while (state.iteration < options.maxIterations) {
    if (hooks.signal?.aborted) return stop("aborted");
    const t = state.iteration + 1;
    const gScaled = ops.scale(1 - beta1, state.g);
    const m = ops.axpy(beta1, state.m, gScaled);
    const g2 = ops.mul(state.g, state.g);
    const g2Scaled = ops.scale(1 - beta2, g2);
    const v = ops.axpy(beta2, state.v, g2Scaled);
    for (const tmp of [gScaled, g2, g2Scaled]) ops.dispose(tmp);
    const bc1 = 1 - beta1 ** t;
    const bc2Sqrt = Math.sqrt(1 - beta2 ** t);
    const root = ops.sqrt(v);
    const ratio = ops.div(m, root, eps * bc2Sqrt);
    const x = ops.axpy(-lr * bc2Sqrt / bc1, ratio, state.x);
    for (const old of [root, ratio, state.m, state.v, state.x, state.g]) ops.dispose(old);

    const e = await objective.evaluate(x);
    const previousLoss = state.loss;
    Object.assign(state, {
      x,
      m,
      v,
      g: e.grad,
      loss: e.loss,
      terms: { ...e.terms },
      iteration: t,
      evaluations: state.evaluations + 1,
    });
    const proceed = await hooks.onIteration?.({
      iteration: t,
      loss: state.loss,
      terms: state.terms,
      evaluations: state.evaluations,
      x,
      state,
    });
    if (proceed === false) return stop("stopped");
    if (tolerance > 0 && Math.abs(state.loss - previousLoss) < tolerance) return stop("tolerance");
  }
  return stop("iterations");
}

/** The state as a checkpoint tree (see state_codec.ts); copies the vectors to the host. */
export async function adamStateTree<V>(
  state: AdamState<V>,
  ops: VectorOps<V>,
): Promise<CheckpointValue> {
  return {
    ...await commonTree("adam", state, ops),
    m: await readValues(ops, state.m),
    v: await readValues(ops, state.v),
  };
}

const adamTreeSchema = z.object({
  kind: z.literal("adam"),
  ...stateTreeBase,
  m: vectorSchema,
  v: vectorSchema,
});

/** An Adam state from {@link adamStateTree}'s tree; throws StateFormatError if unreadable. */
export function adamStateFromTree<V>(tree: unknown, ops: VectorOps<V>): AdamState<V> {
  const t = readStateTree(tree, "adam", adamTreeSchema);
  return {
    kind: "adam",
    ...commonState(t, ops),
    m: ops.fromArray(t.m),
    v: ops.fromArray(t.v),
  };
}

/** Releases the state's vectors. */
export function disposeAdamState<V>(state: AdamState<V>, ops: VectorOps<V>): void {
  for (const v of [state.x, state.g, state.m, state.v]) ops.dispose(v);
}
