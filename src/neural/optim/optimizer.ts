/**
 * One handle over L-BFGS and Adam, so a caller (the style-transfer stage) keeps every piece of
 * optimizer state handling — start, continue, serialize for a checkpoint, restore, release — in one
 * place whichever optimizer the recipe picked.
 */
import type { Objective, VectorOps } from "../engines/engine.ts";
import {
  adamContinue,
  adamStart,
  type AdamState,
  deserializeAdamState,
  disposeAdamState,
  serializeAdamState,
} from "./adam.ts";
import {
  deserializeLbfgsState,
  disposeLbfgsState,
  lbfgsContinue,
  lbfgsStart,
  type LbfgsState,
  serializeLbfgsState,
} from "./lbfgs.ts";
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

/** What every optimizer state has (the rest is optimizer-specific). */
export type OptimizerState<V> = LbfgsState<V> | AdamState<V>;

/** Start / continue / serialize / restore / release for one optimizer on one objective. */
export interface OptimizerHandle<V> {
  /** Evaluates f at x0 (copied) and returns the initial state. */
  start(x0: V): Promise<OptimizerState<V>>;
  /** Runs until `iterations` in total or another stop criterion; updates `state` in place. */
  continue(
    state: OptimizerState<V>,
    hooks: OptimizerHooks<V, OptimizerState<V>>,
  ): Promise<OptimizerResult<OptimizerState<V>>>;
  /** Bytes for a checkpoint. */
  serialize(state: OptimizerState<V>): Promise<Uint8Array>;
  /** A state from checkpoint bytes. */
  deserialize(bytes: Uint8Array): OptimizerState<V>;
  /** Releases the state's vectors. */
  dispose(state: OptimizerState<V>): void;
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
      continue: (state, hooks) =>
        lbfgsContinue(objective, ops, state as LbfgsState<V>, options, hooks),
      serialize: (state) => serializeLbfgsState(state as LbfgsState<V>, ops),
      deserialize: (bytes) => deserializeLbfgsState(bytes, ops),
      dispose: (state) => disposeLbfgsState(state as LbfgsState<V>, ops),
    };
  }
  const options = { maxIterations: settings.iterations, learningRate: settings.learningRate };
  return {
    start: (x0) => adamStart(objective, ops, x0),
    continue: (state, hooks) => adamContinue(objective, ops, state as AdamState<V>, options, hooks),
    serialize: (state) => serializeAdamState(state as AdamState<V>, ops),
    deserialize: (bytes) => deserializeAdamState(bytes, ops),
    dispose: (state) => disposeAdamState(state as AdamState<V>, ops),
  };
}
