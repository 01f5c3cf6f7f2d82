/**
 * The contract between the optimizer/stages and the compute backends (tfjs cpu/wasm/webgpu/node,
 * ONNX Runtime, cuda). An engine turns an {@link ObjectiveSpec} into an {@link Objective}: f and ∇f
 * at x. It does so by translating the plan (plan/network.ts: the forward steps; objective/terms.ts:
 * the table of terms built from the spec, each kind's exact loss defined beside it) into its own
 * ops.
 */
import { StylepipeError } from "../../util/errors.ts";
import type { VggWeights } from "../models/weights_types.ts";
import type { Activation, ObjectiveSpec } from "../objective/spec.ts";
import type { Padding, Pooling } from "../plan/network.ts";
import type { LossPlan } from "../objective/terms.ts";

/** Result of one evaluation. The caller owns `grad` and disposes it through {@link VectorOps}. */
export interface Evaluation<V> {
  /** Total loss. */
  readonly loss: number;
  /** ∇loss with respect to x, same layout as x. */
  readonly grad: V;
  /** Weighted terms: `content`, `style`, `tv`. */
  readonly terms: Record<string, number>;
}

/** f and ∇f at x, and nothing else: what the optimizers see. */
export interface Objective<V> {
  /** Evaluates loss and gradient at `x` (x is not consumed). */
  evaluate(x: V): Promise<Evaluation<V>>;
}

/**
 * Vector maths where the vectors live (a GPU engine keeps them on the GPU; only scalars come back).
 * Every returned vector is new and owned by the caller.
 */
export interface VectorOps<V> {
  /** Σ aᵢ bᵢ */
  dot(a: V, b: V): Promise<number>;
  /**
   * Several dot products with one read-back (a GPU engine waits for the device once); each value
   * equals `dot` of its pair. Optional: {@link batchedDots} falls back to one `dot` per pair.
   */
  dots?(pairs: readonly (readonly [V, V])[]): Promise<number[]>;
  /**
   * Optional: the L-BFGS two-loop recursion d = −H·g (optim/lbfgs.ts) computed where the vectors
   * live, its 2k scalars kept there (no read-back). Same arithmetic as the host recursion: for
   * i = k−1…0, αᵢ = ρᵢ·sᵢᵀq, q −= αᵢyᵢ (q₀ = −g); r = γq; for i = 0…k−1, βᵢ = ρᵢ·yᵢᵀr,
   * r += (αᵢ − βᵢ)sᵢ. Returns r, new and owned by the caller.
   */
  lbfgsDirection?(
    g: V,
    s: readonly V[],
    y: readonly V[],
    rho: readonly number[],
    gamma: number,
  ): V;
  /** a·x + y */
  axpy(a: number, x: V, y: V): V;
  /** a·x */
  scale(a: number, x: V): V;
  /** x − y */
  sub(x: V, y: V): V;
  /** Elementwise x ⊙ y. */
  mul(x: V, y: V): V;
  /** Elementwise √x (used by Adam). */
  sqrt(x: V): V;
  /** Elementwise x / (y + eps). */
  div(x: V, y: V, eps: number): V;
  /** Elementwise clamp to [lo, hi]. */
  clamp(x: V, lo: number, hi: number): V;
  /** A copy. */
  clone(x: V): V;
  /** A zero vector shaped like x. */
  zerosLike(x: V): V;
  /** Releases a vector (no-op for host arrays). */
  dispose(x: V): void;
  /** Host copy of the values. */
  toArray(x: V): Promise<Float32Array>;
  /** A vector from host values. */
  fromArray(a: Float32Array): V;
  /**
   * Where vectors are host arrays: x's own values, to read and not modify (no copy). Optional:
   * {@link readValues} falls back to `toArray`.
   */
  view?(x: V): Float32Array;
  /**
   * Where vectors are host arrays: `a` itself as a vector, taken over (no copy). Optional:
   * {@link adoptValues} falls back to `fromArray`.
   */
  adopt?(a: Float32Array): V;
}

/**
 * x's values to read, not modify: without a copy where the vectors are host arrays (151 MB saved
 * per vector at 4096×3072), else read back.
 */
export function readValues<V>(ops: VectorOps<V>, x: V): Promise<Float32Array> {
  return ops.view ? Promise.resolve(ops.view(x)) : ops.toArray(x);
}

/** A host array the caller gives up as a vector: itself on the host, else uploaded. */
export function adoptValues<V>(ops: VectorOps<V>, a: Float32Array): V {
  return ops.adopt ? ops.adopt(a) : ops.fromArray(a);
}

/** One evaluation's loss, terms and gradient, copied to the host. */
export interface HostEvaluation {
  readonly loss: number;
  readonly terms: Record<string, number>;
  readonly grad: Float32Array;
}

/** Evaluates `objective` of `engine` at a host image x (the engine's vectors are released). */
export async function evaluateAt<V>(
  engine: Pick<Engine<V>, "vec">,
  objective: Objective<V>,
  x: Float32Array,
): Promise<HostEvaluation> {
  const xv = engine.vec.fromArray(x);
  try {
    const e = await objective.evaluate(xv);
    const grad = await engine.vec.toArray(e.grad);
    engine.vec.dispose(e.grad);
    return { loss: e.loss, terms: e.terms, grad };
  } finally {
    engine.vec.dispose(xv);
  }
}

/** The dot products of `pairs` through `ops.dots` when the engine batches them, else one by one. */
export async function batchedDots<V>(
  ops: VectorOps<V>,
  pairs: readonly (readonly [V, V])[],
): Promise<number[]> {
  if (ops.dots) return await ops.dots(pairs);
  const out: number[] = [];
  for (const [a, b] of pairs) out.push(await ops.dot(a, b));
  return out;
}

/** One layer's masked sums asked of {@link Engine.statistics}. */
export interface StatisticsRequest {
  /** Layer name, e.g. `relu1_1`. */
  readonly layer: string;
  /** M (H_l × W_l, the layer's resolution for the image given): each row of F_l multiplied by it. */
  readonly mask: Float32Array;
}

/** Raw (unnormalized) sums of one layer (objective/statistics.ts): S = Σ_p M_p² f_p f_pᵀ, s = Σ_p M_p f_p. */
export interface LayerStatistics {
  /** S, C × C row-major. */
  readonly gram: Float32Array;
  /** s, C values. */
  readonly sum: Float32Array;
}

/** An objective that must be released when done. */
export type DisposableObjective<V> = Objective<V> & { dispose(): void };

/** A compute backend. */
export interface Engine<V = unknown> {
  /** Engine name as written in recipes: `onnx`, `wasm`, `cpu`, `webgpu`, `tfjs-node`, `tfjs-node-gpu`. */
  readonly name: string;
  /** Human-readable description of the backend actually in use (for provenance). */
  describe(): string;
  /**
   * Forward pass only: activations of `layers` for image x (HWC RGB 0–255, height × width), its
   * first conv padding the image per `padding` (default zero).
   */
  extract(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    layers: readonly string[],
    padding?: Padding,
  ): Promise<Map<string, Activation>>;
  /** Builds f and ∇f for one image size. */
  objective(spec: ObjectiveSpec): Promise<DisposableObjective<V>>;
  /**
   * Builds f and ∇f of a loss table made by the caller (objective/tiled.ts: a crop's `linear` and
   * masked `content` terms); `objective(spec)` is this of `lossPlan(spec)`.
   */
  planObjective(weights: VggWeights, plan: LossPlan): Promise<DisposableObjective<V>>;
  /**
   * Forward pass only, returning per request the masked raw sums of its layer
   * ({@link LayerStatistics}) instead of the activations: the first pass of objective/tiled.ts.
   */
  statistics(
    weights: VggWeights,
    pooling: Pooling,
    image: { height: number; width: number; data: Float32Array },
    requests: readonly StatisticsRequest[],
    padding?: Padding,
  ): Promise<LayerStatistics[]>;
  /** Vector maths for the optimizer. */
  readonly vec: VectorOps<V>;
  /** Releases backend resources. */
  dispose(): Promise<void>;
}

/** How an engine is found: `available()` never throws; `create()` throws {@link EngineUnavailableError}. */
export interface EngineProvider {
  /** Name as in recipes. */
  readonly name: string;
  /** Whether this engine can run here (package installed, device present). Never throws. */
  available(): Promise<boolean>;
  /** Creates the engine. */
  create(): Promise<Engine>;
}

/** An engine that cannot run here; the message says how to fix it (e.g. the install command). */
export class EngineUnavailableError extends StylepipeError {
  /** @param engine engine name @param message what is missing and how to install it */
  constructor(readonly engine: string, message: string) {
    super(message);
  }
}
