/**
 * Limited-memory BFGS (Nocedal & Wright, "Numerical Optimization", algorithms 7.4 and 7.5), as
 * jcjohnson/neural-style uses it through torch's `optim.lbfgs`, with the same step conventions:
 * - direction from the two-loop recursion over the last `historySize` pairs (s, y), initial
 *   Hessian scaling γ = sᵀy / yᵀy of the newest pair; a pair with sᵀy ≤ ε is skipped (keeps the
 *   approximation positive definite);
 * - line search `none`: a fixed step `learningRate`, the very first one scaled by
 *   min(1, 1/‖g‖₁) (no curvature is known yet), or by `firstStep`/‖g‖∞ when that is given;
 * - line search `strong_wolfe`: bracketing plus zoom with cubic interpolation (c1 = 1e-4,
 *   c2 = 0.9), started from the same step, lengthened ×10 while it does not change the loss.
 *   Its curvature condition guarantees sᵀy > 0, so every pair is kept; the fixed step does not
 *   (measured: a 1024 px upscale's first pair had sᵀy < 0, and with γ = 1 the steps after it
 *   moved nothing), nor does it guard against overshooting (167 → 275 097 on one 512 px step).
 *
 * Generic over the vector type: all vector maths goes through {@link VectorOps}, so a GPU engine
 * keeps x, g and the history on the device and only scalars come back: with the fixed step, the
 * iteration's scalars (gᵀd, yᵀs, sᵀs, yᵀy, ‖g‖²) in one batched read-back after the step (gᵀd's
 * descent check therefore follows the evaluation: a non-descent step is dropped, uncounted), and the
 * two-loop recursion on the device where the ops offer it. The whole state is explicit
 * ({@link LbfgsState}) and serializable, so a run can be stopped and resumed bit-identically.
 */
import {
  batchedDots,
  type Evaluation,
  type Objective,
  readValues,
  type VectorOps,
} from "../engines/engine.ts";
import { z } from "npm:zod@4.6.7";
import type { CheckpointValue } from "../../util/checkpoint_codec.ts";
import {
  commonState,
  commonTree,
  readStateTree,
  StateFormatError,
  stateTreeBase,
  vectorSchema,
} from "./state_codec.ts";
import type { OptimizerHooks, OptimizerResult, StopReason } from "./types.ts";

/** L-BFGS settings. */
export interface LbfgsOptions {
  /** Iterations to run in this call (counted from the state's iteration, i.e. a total). */
  readonly maxIterations: number;
  /** History size m (pairs kept). Default 100 (jcjohnson's default). */
  readonly historySize?: number;
  /** Step length; default 1. */
  readonly learningRate?: number;
  /** Line search. Default `none`. */
  readonly lineSearch?: "none" | "strong_wolfe";
  /**
   * The first step (the fixed one, or the line search's first trial) moves the largest coordinate
   * by `firstStep` × learningRate (t = firstStep/‖g‖∞) instead of torch's min(1, 1/‖g‖₁).
   * Departure for images: on a loss normalized over millions of pixels torch's step is below
   * float32's resolution of the pixel values, so a fixed step does not move the image and the
   * line search spends tens of evaluations lengthening it ×10 at a time (style-transfer passes 1:
   * one 8-bit level on the engines' 0–255 scale).
   */
  readonly firstStep?: number;
  /** Stop when |Δloss| or the step length ‖s‖₂ falls below this. Default 1e-9; 0 disables. */
  readonly tolerance?: number;
  /** Stop when ‖g‖₂ falls below this. Default 1e-7. */
  readonly gradTolerance?: number;
  /** Most objective evaluations a strong-Wolfe search may spend. Default 25. */
  readonly maxLineSearchEvaluations?: number;
}

/** Everything needed to continue a run. Vectors are owned by the state. */
export interface LbfgsState<V> {
  /** The tag that tells this state from another optimizer's. */
  readonly kind: "lbfgs";
  /** Current iterate. */
  x: V;
  /** ∇f(x). */
  g: V;
  /** f(x). */
  loss: number;
  /** Weighted loss terms at x. */
  terms: Record<string, number>;
  /** Step differences s_k = x_{k+1} − x_k, oldest first. */
  s: V[];
  /** Gradient differences y_k = g_{k+1} − g_k, oldest first. */
  y: V[];
  /** 1 / (y_kᵀ s_k), per pair. */
  rho: number[];
  /** Initial inverse-Hessian scaling γ (from the newest accepted pair; 1 before any). */
  gamma: number;
  /** Iterations completed. */
  iteration: number;
  /** Objective evaluations so far. */
  evaluations: number;
}

/** Hooks for L-BFGS (the state passed to `onIteration` is an {@link LbfgsState}). */
export type LbfgsHooks<V> = OptimizerHooks<V, LbfgsState<V>>;

/** Curvature threshold below which a pair (s, y) is not stored. */
const CURVATURE_EPS = 1e-10;
const C1 = 1e-4;
const C2 = 0.9;

/** Evaluates f at x0 and returns the initial state (x0 is copied, not consumed). */
export async function lbfgsStart<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  x0: V,
): Promise<LbfgsState<V>> {
  const x = ops.clone(x0);
  const e = await objective.evaluate(x);
  return {
    kind: "lbfgs",
    x,
    g: e.grad,
    loss: e.loss,
    terms: { ...e.terms },
    s: [],
    y: [],
    rho: [],
    gamma: 1,
    iteration: 0,
    evaluations: 1,
  };
}

/**
 * Runs L-BFGS from x0 for `options.maxIterations` iterations (or until a stop criterion).
 *
 * @example Minimise f(x) = Σ (xᵢ − 3)² on the host
 * ```ts
 * import { hostVectorOps } from "../engines/host_vector_ops.ts";
 * const objective = {
 *   evaluate: (x: Float32Array) =>
 *     Promise.resolve({
 *       loss: x.reduce((s, v) => s + (v - 3) ** 2, 0),
 *       grad: x.map((v) => 2 * (v - 3)),
 *       terms: {},
 *     }),
 * };
 * const result = await lbfgs(objective, hostVectorOps, new Float32Array(4), {
 *   maxIterations: 20,
 *   lineSearch: "strong_wolfe",
 * });
 * console.log([...result.state.x].map((v) => v.toFixed(3))); // [ "3.000", "3.000", "3.000", "3.000" ]
 * ```
 */
export async function lbfgs<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  x0: V,
  options: LbfgsOptions,
  hooks: LbfgsHooks<V> = {},
): Promise<OptimizerResult<LbfgsState<V>>> {
  if (hooks.signal?.aborted) throw hooks.signal.reason;
  const state = await lbfgsStart(objective, ops, x0);
  return lbfgsContinue(objective, ops, state, options, hooks);
}

/**
 * Continues a run from `state` (which it takes over and updates in place) until the state's
 * iteration reaches `options.maxIterations` or another criterion stops it.
 */
export async function lbfgsContinue<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  state: LbfgsState<V>,
  options: LbfgsOptions,
  hooks: LbfgsHooks<V> = {},
): Promise<OptimizerResult<LbfgsState<V>>> {
  const m = options.historySize ?? 100;
  const lr = options.learningRate ?? 1;
  const tolerance = options.tolerance ?? 1e-9;
  const gradTolerance = options.gradTolerance ?? 1e-7;
  const maxLs = options.maxLineSearchEvaluations ?? 25;
  if (!(m >= 1) || !(lr > 0)) throw new RangeError("historySize ≥ 1 and learningRate > 0 required");

  const stop = (reason: StopReason) => ({ state, reason });
  // ‖g‖² of the current iterate, when the last batched read-back already brought it.
  let gg: number | undefined;
  while (state.iteration < options.maxIterations) {
    if (hooks.signal?.aborted) return stop("aborted");
    gg ??= await ops.dot(state.g, state.g);
    if (Math.sqrt(gg) <= gradTolerance) return stop("converged");

    const d = await direction(ops, state);
    const wolfe = options.lineSearch === "strong_wolfe";
    // The fixed step reads gᵀd back with the step's other scalars (below); the search needs it now.
    const gtd0 = wolfe ? await ops.dot(state.g, d) : undefined;
    if (gtd0 !== undefined && !(gtd0 < 0)) {
      // Not a descent direction (round-off at convergence): nothing more to gain.
      ops.dispose(d);
      return stop("tolerance");
    }
    let t = lr;
    if (state.iteration === 0) {
      // Without curvature information, keep the first step small (torch's scaling by default).
      const g0 = await ops.toArray(state.g);
      const first = options.firstStep;
      t = (first === undefined ? Math.min(1, 1 / l1Norm(g0)) : first / maxAbs(g0)) * lr;
    }

    let step: LineSearchResult<V>;
    if (gtd0 !== undefined) {
      step = await strongWolfe(objective, ops, state, d, t, gtd0, tolerance, maxLs, hooks.signal);
      if (step.aborted) {
        // A search cut short is dropped: the state stays the last whole iteration, which a
        // checkpoint can then keep and a resume continue bit-identically.
        for (const v of [d, step.x, step.evaluation.grad]) ops.dispose(v);
        return stop("aborted");
      }
    } else {
      const xNew = ops.axpy(t, d, state.x);
      const e = await objective.evaluate(xNew);
      step = { t, x: xNew, evaluation: e, evaluations: 1 };
    }

    const s = ops.scale(step.t, d);
    const y = ops.sub(step.evaluation.grad, state.g);
    // Every scalar of the step in one read-back (GPU engines sync once per iteration here).
    const pairs: [V, V][] = [[y, s], [s, s], [y, y], [step.evaluation.grad, step.evaluation.grad]];
    if (gtd0 === undefined) pairs.push([state.g, d]);
    const [ys, ss, yy, ggNew, gtd] = await batchedDots(ops, pairs);
    ops.dispose(d);
    if (gtd0 === undefined && !(gtd < 0)) {
      // Not a descent direction (round-off at convergence): the step taken speculatively is
      // dropped and not counted, so the state is what it was before this iteration.
      for (const v of [s, y, step.x, step.evaluation.grad]) ops.dispose(v);
      return stop("tolerance");
    }
    state.evaluations += step.evaluations;
    const stepLength = Math.sqrt(ss);
    if (ys > CURVATURE_EPS) {
      if (state.s.length === m) {
        ops.dispose(state.s.shift()!);
        ops.dispose(state.y.shift()!);
        state.rho.shift();
      }
      state.s.push(s);
      state.y.push(y);
      state.rho.push(1 / ys);
      state.gamma = ys / yy;
    } else {
      ops.dispose(s);
      ops.dispose(y);
    }

    const previousLoss = state.loss;
    ops.dispose(state.x);
    ops.dispose(state.g);
    state.x = step.x;
    state.g = step.evaluation.grad;
    state.loss = step.evaluation.loss;
    state.terms = { ...step.evaluation.terms };
    state.iteration++;
    gg = ggNew;

    const proceed = await hooks.onIteration?.({
      iteration: state.iteration,
      loss: state.loss,
      terms: state.terms,
      evaluations: state.evaluations,
      x: state.x,
      state,
    });
    if (proceed === false) return stop("stopped");
    if (Math.abs(state.loss - previousLoss) < tolerance || stepLength < tolerance) {
      return stop("tolerance");
    }
  }
  return stop("iterations");
}

/**
 * The quasi-Newton direction d = −H·g by the two-loop recursion: on the device when the engine
 * offers it (no scalar comes back), else here, one read-back per dot product (host vectors).
 */
function direction<V>(ops: VectorOps<V>, state: LbfgsState<V>): V | Promise<V> {
  if (ops.lbfgsDirection) {
    return ops.lbfgsDirection(state.g, state.s, state.y, state.rho, state.gamma);
  }
  return hostDirection(ops, state);
}

async function hostDirection<V>(ops: VectorOps<V>, state: LbfgsState<V>): Promise<V> {
  const k = state.s.length;
  let q = ops.scale(-1, state.g);
  const alpha = new Array<number>(k);
  for (let i = k - 1; i >= 0; i--) {
    alpha[i] = (await ops.dot(state.s[i], q)) * state.rho[i];
    const next = ops.axpy(-alpha[i], state.y[i], q);
    ops.dispose(q);
    q = next;
  }
  let r = ops.scale(state.gamma, q);
  ops.dispose(q);
  for (let i = 0; i < k; i++) {
    const beta = (await ops.dot(state.y[i], r)) * state.rho[i];
    const next = ops.axpy(alpha[i] - beta, state.s[i], r);
    ops.dispose(r);
    r = next;
  }
  return r;
}

function l1Norm(a: Float32Array): number {
  let acc = 0;
  for (let i = 0; i < a.length; i++) acc += Math.abs(a[i]);
  return acc;
}

function maxAbs(a: Float32Array): number {
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]));
  return max;
}

/** The accepted step: length t along d, the new point and its evaluation (all owned). */
interface LineSearchResult<V> {
  readonly t: number;
  readonly x: V;
  readonly evaluation: Evaluation<V>;
  readonly evaluations: number;
  /** The search stopped early because the signal fired (the caller drops the step). */
  readonly aborted?: boolean;
}

/** A trial point of the line search: step, loss, directional derivative, evaluation. */
interface Trial<V> {
  t: number;
  f: number;
  gtd: number;
  e: Evaluation<V> | undefined; // undefined for the start point (owned by the state)
}

/**
 * Line search satisfying the strong Wolfe conditions (Nocedal & Wright algorithms 3.5/3.6), in
 * the form of torch's `_strong_wolfe`: expand the step until a bracket is found, then zoom with
 * safeguarded cubic interpolation. Falls back to the best point seen after `maxEvals`.
 */
async function strongWolfe<V>(
  objective: Objective<V>,
  ops: VectorOps<V>,
  state: LbfgsState<V>,
  d: V,
  t0: number,
  gtd0: number,
  tolerance: number,
  maxEvals: number,
  signal: AbortSignal | undefined,
): Promise<LineSearchResult<V>> {
  const f0 = state.loss;
  // Torch measures the bracket width with ‖d‖∞; ‖d‖₂ needs no host copy and is never smaller.
  const dNorm = Math.sqrt(await ops.dot(d, d));
  let evals = 0;
  const live = new Set<Evaluation<V>>();
  const evaluate = async (t: number): Promise<Trial<V>> => {
    const x = ops.axpy(t, d, state.x);
    const e = await objective.evaluate(x);
    ops.dispose(x);
    evals++;
    live.add(e);
    return { t, f: e.loss, gtd: await ops.dot(e.grad, d), e };
  };
  const start: Trial<V> = { t: 0, f: f0, gtd: gtd0, e: undefined };

  let prev = start;
  let cur = await evaluate(t0);
  let bracket: [Trial<V>, Trial<V>] | undefined;
  let done: Trial<V> | undefined;
  let aborted = false;
  // Bracketing phase.
  while (true) {
    if (cur.f === f0 && cur.gtd < 0 && evals < maxEvals && !signal?.aborted) {
      // Departs from torch: a step too short to change the float32 loss at all (a large image's
      // first step, 1/‖g‖₁) is lengthened ×10, not taken for a bracket [0, t] that the zoom would
      // search with every remaining evaluation before returning a zero step.
      prev = cur;
      cur = await evaluate(cur.t * 10);
      continue;
    }
    if (cur.f > f0 + C1 * cur.t * gtd0 || (evals > 1 && cur.f >= prev.f)) {
      bracket = [prev, cur];
      break;
    }
    if (Math.abs(cur.gtd) <= -C2 * gtd0) {
      done = cur;
      break;
    }
    if (cur.gtd >= 0) {
      bracket = [prev, cur];
      break;
    }
    if (evals >= maxEvals || signal?.aborted) {
      done = cur; // sufficient decrease holds: an acceptable, if not Wolfe, point
      aborted = !!signal?.aborted;
      break;
    }
    const minStep = cur.t + 0.01 * (cur.t - prev.t);
    const maxStep = cur.t * 10;
    const t = cubicMinimum(prev.t, prev.f, prev.gtd, cur.t, cur.f, cur.gtd, minStep, maxStep);
    prev = cur;
    cur = await evaluate(t);
  }

  // Zoom phase: bracket[low] has the lower loss.
  if (!done && bracket) {
    let insufficientProgress = false;
    let [low, high] = bracket[0].f <= bracket[1].f ? [0, 1] : [1, 0];
    while (!done && evals < maxEvals) {
      if (signal?.aborted) {
        aborted = true;
        break;
      }
      const a = bracket[0], b = bracket[1];
      if (Math.abs(b.t - a.t) * dNorm < tolerance) break;
      let t = cubicMinimum(a.t, a.f, a.gtd, b.t, b.f, b.gtd);
      const hi = Math.max(a.t, b.t), lo = Math.min(a.t, b.t);
      const eps = 0.1 * (hi - lo);
      if (Math.min(hi - t, t - lo) < eps) {
        // Too close to an end of the bracket: move away from it unless the last move was fine.
        if (insufficientProgress || t >= hi || t <= lo) {
          t = Math.abs(t - hi) < Math.abs(t - lo) ? hi - eps : lo + eps;
          insufficientProgress = false;
        } else {
          insufficientProgress = true;
        }
      } else {
        insufficientProgress = false;
      }
      const trial = await evaluate(t);
      if (trial.f > f0 + C1 * trial.t * gtd0 || trial.f >= bracket[low].f) {
        bracket[high] = trial;
        [low, high] = bracket[0].f <= bracket[1].f ? [0, 1] : [1, 0];
      } else {
        if (Math.abs(trial.gtd) <= -C2 * gtd0) {
          done = trial;
        } else if (trial.gtd * (bracket[high].t - bracket[low].t) >= 0) {
          bracket[high] = bracket[low];
        }
        bracket[low] = trial;
      }
    }
    done ??= bracket[low];
  }
  const chosen = done!;
  for (const e of live) if (e !== chosen.e) ops.dispose(e.grad);
  if (!chosen.e) {
    // No point improved on the start (the search collapsed): take a zero step.
    return {
      t: 0,
      x: ops.clone(state.x),
      evaluation: { loss: f0, grad: ops.clone(state.g), terms: state.terms },
      evaluations: evals,
      aborted,
    };
  }
  return {
    t: chosen.t,
    x: ops.axpy(chosen.t, d, state.x),
    evaluation: chosen.e,
    evaluations: evals,
    aborted,
  };
}

/**
 * Minimizer of the cubic interpolating (x1, f1, g1) and (x2, f2, g2), clamped to [lo, hi]
 * (default: the interval between x1 and x2); the midpoint when the cubic has no minimum.
 */
export function cubicMinimum(
  x1: number,
  f1: number,
  g1: number,
  x2: number,
  f2: number,
  g2: number,
  lo = Math.min(x1, x2),
  hi = Math.max(x1, x2),
): number {
  const d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2);
  const d2Square = d1 * d1 - g1 * g2;
  if (d2Square >= 0) {
    const d2 = Math.sqrt(d2Square);
    const t = x1 <= x2
      ? x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
      : x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2));
    if (Number.isFinite(t)) return Math.min(Math.max(t, lo), hi);
  }
  return (lo + hi) / 2;
}

/** The state as a checkpoint tree (see state_codec.ts); copies the vectors to the host. */
export async function lbfgsStateTree<V>(
  state: LbfgsState<V>,
  ops: VectorOps<V>,
): Promise<CheckpointValue> {
  const host = (vs: V[]) => Promise.all(vs.map((v) => readValues(ops, v)));
  return {
    ...await commonTree("lbfgs", state, ops),
    rho: state.rho,
    gamma: state.gamma,
    s: await host(state.s),
    y: await host(state.y),
  };
}

const lbfgsTreeSchema = z.object({
  kind: z.literal("lbfgs"),
  ...stateTreeBase,
  rho: z.array(z.number()),
  gamma: z.number(),
  s: z.array(vectorSchema),
  y: z.array(vectorSchema),
});

/** An L-BFGS state from {@link lbfgsStateTree}'s tree; throws StateFormatError if unreadable. */
export function lbfgsStateFromTree<V>(tree: unknown, ops: VectorOps<V>): LbfgsState<V> {
  const t = readStateTree(tree, "lbfgs", lbfgsTreeSchema);
  if (t.s.length !== t.rho.length || t.y.length !== t.rho.length) {
    throw new StateFormatError("lbfgs state has history pairs of different lengths");
  }
  return {
    kind: "lbfgs",
    ...commonState(t, ops),
    s: t.s.map((v) => ops.fromArray(v)),
    y: t.y.map((v) => ops.fromArray(v)),
    rho: [...t.rho],
    gamma: t.gamma,
  };
}

/** Releases the state's vectors. */
export function disposeLbfgsState<V>(state: LbfgsState<V>, ops: VectorOps<V>): void {
  for (const v of [state.x, state.g, ...state.s, ...state.y]) ops.dispose(v);
}
