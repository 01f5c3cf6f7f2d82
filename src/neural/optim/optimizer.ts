/**
 * One handle over L-BFGS and Adam, so a caller (the style-transfer stage) keeps every piece of
 * optimizer state handling — start, continue, serialize for a checkpoint, restore, release — in one
 * place whichever optimizer the recipe picked. The handle adds what both optimizers share to their
 * loop: the average of the iterates (average.ts, the image a caller returns when it is on) and the
 * convergence stop (convergence.ts); both are part of the state, so a resumed run stays bit-exact.
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
import {
  averageFromTree,
  averageTree,
  type IterateAverage,
  startAverage,
  updateAverage,
} from "./average.ts";
import { type ConvergenceRule, hasConverged, type LossWindow, pushLoss } from "./convergence.ts";
import { StateFormatError } from "./state_codec.ts";
import type { OptimizerHooks, OptimizerResult } from "./types.ts";

/** Optimizer names as written in recipes. */
export const optimizerNames = ["lbfgs", "adam"] as const;
/** An optimizer name. */
export type OptimizerName = typeof optimizerNames[number];

/** The settings a recipe gives. */
export interface OptimizerSettings {
  readonly name: OptimizerName;
  /** Total iterations (the cap when `convergence` may stop the run earlier). */
  readonly iterations: number;
  readonly learningRate: number;
  /** L-BFGS history size m. */
  readonly historySize: number;
  /** L-BFGS line search. */
  readonly lineSearch: "none" | "strong_wolfe";
  /** L-BFGS: the first step's largest move (lbfgs.ts `firstStep`; absent: torch's rule). */
  readonly firstStep?: number;
  /** Decay of the iterate average (0: off). */
  readonly average?: number;
  /** Stop once the loss stalls (absent or tolerance 0: run every iteration). */
  readonly convergence?: ConvergenceRule;
}

/** What the handle keeps beside either optimizer's own state. */
export interface LoopState<V> {
  /** The average of the iterates, when `settings.average` > 0. */
  average?: IterateAverage<V>;
  /** The latest losses, for the convergence stop. */
  losses: LossWindow;
}

/** The state of either optimizer, told apart by its `kind`, with the handle's own fields. */
export type OptimizerState<V> = (LbfgsState<V> | AdamState<V>) & LoopState<V>;

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

/** One optimizer's own start / continue / save / restore / release. */
interface InnerHandle<V> {
  start(x0: V): Promise<LbfgsState<V> | AdamState<V>>;
  continue(
    state: OptimizerState<V>,
    hooks: OptimizerHooks<V, LbfgsState<V> | AdamState<V>>,
  ): Promise<OptimizerResult<LbfgsState<V> | AdamState<V>>>;
  save(state: OptimizerState<V>): Promise<CheckpointValue>;
  restore(tree: unknown): LbfgsState<V> | AdamState<V>;
  dispose(state: OptimizerState<V>): void;
}

/** The handle for `settings.name`. */
export function optimizerFor<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  settings: OptimizerSettings,
): OptimizerHandle<V> {
  const inner = innerHandle(objective, ops, settings);
  const decay = settings.average ?? 0;
  const rule = settings.convergence ?? { tolerance: 0, window: 1 };
  return {
    async start(x0) {
      const state = await inner.start(x0);
      return Object.assign(state, {
        average: decay > 0 ? startAverage(ops, state.x, decay) : undefined,
        losses: [state.loss],
      });
    },
    async continue(state, hooks) {
      let converged = false;
      const { reason } = await inner.continue(state, {
        signal: hooks.signal,
        onIteration: async (info) => {
          // Before the caller's hooks, so a checkpoint taken there holds this iteration's fields.
          if (state.average) updateAverage(ops, state.average, info.x);
          state.losses = pushLoss(state.losses, info.loss, rule);
          if (await hooks.onIteration?.({ ...info, state }) === false) return false;
          converged = hasConverged(state.losses, rule);
          return !converged;
        },
      });
      return { state, reason: converged ? "tolerance" : reason };
    },
    async save(state) {
      const tree = await inner.save(state);
      return {
        ...(tree as Record<string, CheckpointValue>),
        losses: [...state.losses],
        average: state.average ? await averageTree(state.average, ops) : null,
      };
    },
    restore(tree) {
      const state = inner.restore(tree);
      const fields = tree as { losses?: unknown; average?: unknown };
      if (
        !Array.isArray(fields.losses) || !fields.losses.every((l) => typeof l === "number")
      ) {
        throw new StateFormatError("optimizer state has no loss window");
      }
      if ((fields.average != null) !== decay > 0) {
        throw new StateFormatError(
          `optimizer state ${fields.average != null ? "has" : "lacks"} an iterate average`,
        );
      }
      return Object.assign(state, {
        average: decay > 0 ? averageFromTree(fields.average, ops) : undefined,
        losses: [...fields.losses],
      });
    },
    dispose(state) {
      inner.dispose(state);
      if (state.average) ops.dispose(state.average.x);
    },
  };
}

/** L-BFGS's or Adam's own handle. */
function innerHandle<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  settings: OptimizerSettings,
): InnerHandle<V> {
  if (settings.name === "lbfgs") {
    const options = {
      maxIterations: settings.iterations,
      learningRate: settings.learningRate,
      historySize: settings.historySize,
      lineSearch: settings.lineSearch,
      firstStep: settings.firstStep,
      // A render runs the iterations it was given, as jcjohnson/neural-style (tolX = tolFun = −1),
      // unless it asks for the convergence stop: on a large image the deliberately small first
      // step changes the float32 loss by less than its resolution, which a loss-change tolerance
      // would take for convergence.
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
