/**
 * The convergence stop: a run ends once the loss fell by less than `tolerance` (relative) over the
 * last `window` iterations — (L[t−K] − L[t]) < tolerance · |L[t−K]|. It looks only at the losses,
 * which an engine computes deterministically, so the same recipe, seed and engine stop at the same
 * iteration; a window rather than one step keeps a single flat iteration (a collapsed line search,
 * the deliberately tiny first L-BFGS step) from ending a run that is still falling.
 */

/** When to stop: relative decrease below `tolerance` over `window` iterations (0: never). */
export interface ConvergenceRule {
  readonly tolerance: number;
  readonly window: number;
}

/** The losses the rule looks at: the last `window + 1` (L[t−K] … L[t]), oldest first. */
export type LossWindow = number[];

/** `losses` with `loss` appended, trimmed to what `rule` needs (a new array). */
export function pushLoss(
  losses: readonly number[],
  loss: number,
  rule: ConvergenceRule,
): LossWindow {
  return [...losses, loss].slice(-(rule.window + 1));
}

/** Whether the run has converged by `rule` after the losses in `losses`. */
export function hasConverged(losses: readonly number[], rule: ConvergenceRule): boolean {
  if (!(rule.tolerance > 0) || losses.length < rule.window + 1) return false;
  const before = losses[losses.length - 1 - rule.window];
  const now = losses[losses.length - 1];
  return before - now < rule.tolerance * Math.abs(before);
}
