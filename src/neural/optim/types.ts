/** What the optimizers (L-BFGS, Adam) share: hooks, stop reasons, per-iteration reports. */

/** Why an optimizer run ended. */
export type StopReason =
  | "iterations" // maxIterations reached
  | "tolerance" // loss change or step below the tolerance
  | "converged" // gradient norm below gradTolerance
  | "stopped" // onIteration returned false
  | "aborted"; // the AbortSignal fired

/** Reported after every completed iteration. `x` and `state` are borrowed: clone to keep them. */
export interface IterationInfo<V, S> {
  /** Iterations completed so far (1 after the first). */
  readonly iteration: number;
  /** Loss at the new iterate `x`. */
  readonly loss: number;
  /** Weighted loss terms at `x` (`content`, `style`, `tv` for style transfer). */
  readonly terms: Readonly<Record<string, number>>;
  /** Objective evaluations so far (line searches evaluate several times per iteration). */
  readonly evaluations: number;
  /** The new iterate (borrowed). */
  readonly x: V;
  /** The optimizer's whole state (borrowed; serialize it here to checkpoint). */
  readonly state: S;
}

/** Callbacks and cancellation for an optimizer run. */
export interface OptimizerHooks<V, S> {
  /** Called after each iteration; returning `false` stops the run (reason `stopped`). */
  onIteration?(info: IterationInfo<V, S>): boolean | void | Promise<boolean | void>;
  /** Checked before every evaluation; when aborted the run returns with reason `aborted`. */
  signal?: AbortSignal;
}

/** The end of a run: the final state (owned by the caller) and why it stopped. */
export interface OptimizerResult<S> {
  readonly state: S;
  readonly reason: StopReason;
}
