/**
 * One handle over L-BFGS and Adam, so a caller (the style-transfer stage) keeps every piece of
 * optimizer state handling — start, continue, serialize for a checkpoint, restore, release — in one
 * place whichever optimizer the recipe picked.
 */
import type { Objective, VectorOps } from "../engines/engine.ts";
import type { CheckpointValue } from "../../util/checkpoint_codec.ts";
import {
  adamContinue,
  adamStart,
  type AdamState,
  adamStateFromTree,
  adamStateTree,
  disposeAdamState,
} from "./adam.ts";
import {
  disposeLbfgsState,
  lbfgsContinue,
  lbfgsStart,
  type LbfgsState,
  lbfgsStateFromTree,
  lbfgsStateTree,
} from "./lbfgs.ts";
import { StateFormatError } from "./state_codec.ts";
import type { OptimizerHooks, OptimizerResult } from "./types.ts";

/** Optimizer names as written in recipes. */
export const optimizerNames = ["lbfgs", "adam"] as const;
/** An optimizer name. */
export type OptimizerName = typeof optimizerNames[number];

/** The settings a recipe gives. */
export interface OptimizerSettings {
  readonly name: OptimizerName;
  /** Total iterations. */
  readonly iterations: number;
  readonly learningRate: number;
  /** L-BFGS history size m. */
  readonly historySize: number;
  /** L-BFGS line search. */
  readonly lineSearch: "none" | "strong_wolfe";
}

/** The state of either optimizer, told apart by its `kind`. */
export type OptimizerState<V> = LbfgsState<V> | AdamState<V>;

/** Start / continue / save for a checkpoint / restore / release for one optimizer on one objective. */
export interface OptimizerHandle<V> {
  /** Evaluates f at x0 (copied) and returns the initial state. */
  start(x0: V): Promise<OptimizerState<V>>;
  /** Runs until `iterations` in total or another stop criterion; updates `state` in place. */
  continue(
    state: OptimizerState<V>,
    hooks: OptimizerHooks<V, OptimizerState<V>>,
  ): Promise<OptimizerResult<OptimizerState<V>>>;
  /** The state as a checkpoint tree (vectors copied to the host). */
  save(state: OptimizerState<V>): Promise<CheckpointValue>;
  /** A state from a checkpoint tree; throws StateFormatError for another optimizer's or a damaged one. */
  restore(tree: unknown): OptimizerState<V>;
  /** Releases the state's vectors. */
  dispose(state: OptimizerState<V>): void;
}

/** `state` as an L-BFGS state (StateFormatError when it is another optimizer's). */
function lbfgsOf<V>(state: OptimizerState<V>): LbfgsState<V> {
  if (state.kind === "lbfgs") return state;
  throw new StateFormatError(`optimizer state is for "${state.kind}", expected "lbfgs"`);
}

/** `state` as an Adam state (StateFormatError when it is another optimizer's). */
function adamOf<V>(state: OptimizerState<V>): AdamState<V> {
  if (state.kind === "adam") return state;
  throw new StateFormatError(`optimizer state is for "${state.kind}", expected "adam"`);
}

/** The handle for `settings.name`. */
export function optimizerFor<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  settings: OptimizerSettings,
): OptimizerHandle<V> {
  if (settings.name === "lbfgs") {
    const options = {
      maxIterations: settings.iterations,
      learningRate: settings.learningRate,
      historySize: settings.historySize,
      lineSearch: settings.lineSearch,
      // A render runs the iterations it was given, as jcjohnson/neural-style (tolX = tolFun = −1):
      // on a large image the deliberately small first step changes the float32 loss by less than
      // its resolution, which a loss-change tolerance would take for convergence.
      tolerance: 0,
    };
    return {
      start: (x0) => lbfgsStart(objective, ops, x0),
      continue: (state, hooks) => lbfgsContinue(objective, ops, lbfgsOf(state), options, hooks),
      save: (state) => lbfgsStateTree(lbfgsOf(state), ops),
      restore: (tree) => lbfgsStateFromTree(tree, ops),
      dispose: (state) => disposeLbfgsState(lbfgsOf(state), ops),
    };
  }
  const options = { maxIterations: settings.iterations, learningRate: settings.learningRate };
  return {
    start: (x0) => adamStart(objective, ops, x0),
    continue: async (state, hooks) =>
      await adamContinue(objective, ops, adamOf(state), options, hooks),
    save: async (state) => await adamStateTree(adamOf(state), ops),
    restore: (tree) => adamStateFromTree(tree, ops),
    dispose: (state) => disposeAdamState(adamOf(state), ops),
  };
}
