/**
 * The contract between the optimizer/stages and the compute backends (tfjs cpu/wasm/webgpu/node,
 * ONNX Runtime). An engine turns an {@link ObjectiveSpec} into an {@link Objective}: f and ∇f at x.
 * It does so by translating the plan (plan/network.ts: the forward steps; plan/loss.ts: the table
 * of terms built from the spec) into its own ops.
 *
 * Loss definitions (every engine computes exactly these, one per term kind of plan/loss.ts; the
 * tests compare engines on them):
 * - x: the image, HWC float32, RGB, 0–255 pixel scale (the optimization variable). The network
 *   applies the caffe preprocessing itself (RGB → BGR, minus {@link CAFFE_MEAN_BGR}); its first
 *   conv pads the preprocessed image per {@link ObjectiveSpec.padding} (plan/network.ts).
 * - F_l: activations of layer l for x, shape [H_l, W_l, C_l] (after ReLU for `relu*`, before for `conv*`).
 * - `content` term:  w · mean((F_l − P_l)²)
 * - Gram: G_l = F_lᵀ F_l / (H_l · W_l · C_l), with F_l as an (H_l·W_l) × C_l matrix; for a
 *   `masked-gram` term, F_l is first multiplied row-wise by M_l (the mask resized to H_l × W_l).
 * - `gram` / `masked-gram` term:  w · mean((G_l − A_l)²)      (mean over the C_l² entries)
 * - Mean and covariance (`mean-covariance` term, unmasked only): μ_l = F_lᵀ 1 / (H_l·W_l), the
 *   mean feature (C_l values), and Σ_l = (F_l − 1μ_lᵀ)ᵀ (F_l − 1μ_lᵀ) / (H_l·W_l·C_l), the
 *   covariance normalized like the Gram, so that G_l = Σ_l + μ_l μ_lᵀ / C_l.
 * - `mean-covariance` term:  w · (mean((Σ_l − S_l)²) + λ · mean((μ_l − m_l)²))   (means over the
 *   C_l² and C_l entries), S_l and m_l the style's covariance and mean, λ = 2·mean(m_l²)/C_l² (the
 *   weight the Gram loss gives a small error of the mean: losses/targets.ts meanPartWeight).
 * - `linear` term (the second pass of objective/tiled.ts): w · (⟨R, (M_l F_l)ᵀ(M_l F_l)⟩ +
 *   ⟨r, (M_l F_l)ᵀ1⟩), raw sums over the H_l·W_l rows; its gradient by F_l is
 *   w · (M_l ⊙ ((M_l F_l)(R + Rᵀ)) + M_l rᵀ). A `content` term with a mask M_l is
 *   w · mean(M_l ⊙ (F_l − P_l)²) (mean over all H_l·W_l·C_l entries).
 * - `tv` term:  w · Σ_{i,j,c} (x[i+1,j,c] − x[i,j,c])² + (x[i,j+1,c] − x[i,j,c])²
 * - w is the term's whole weight: content_weight · w_l, style_weight · w_l, tv_weight.
 * - loss = Σ terms; `terms` reports the sums per group "content", "style" (gram, masked-gram and
 *   mean-covariance) and "tv".
 */
import { StylepipeError } from "../../util/errors.ts";
import type { VggWeights } from "../models/weights_types.ts";
import type { Padding, Pooling } from "../plan/network.ts";
import type { LossPlan } from "../plan/loss.ts";

export { CAFFE_MEAN_BGR } from "../models/weights_types.ts";
export type { Padding, Pooling } from "../plan/network.ts";

/** A content target: the activations of one layer for the content image. */
export interface ContentTarget {
  /** Layer name, e.g. `relu4_2`. */
  readonly layer: string;
  /** Per-layer weight w_l. */
  readonly weight: number;
  /** Activations, shape [H_l, W_l, C_l], HWC float32. */
  readonly activations: Float32Array;
}

/** The style statistic a target is matched on: the Gram matrix, or the mean and covariance. */
export type StyleStatistic = "gram" | "mean-covariance";

/** The style statistics, for parameter schemas. */
export const styleStatistics = ["gram", "mean-covariance"] as const;

/** A style target: a normalized Gram matrix (and optionally the mask it applies through). */
export interface StyleTarget {
  /** Layer name, e.g. `relu1_1`. */
  readonly layer: string;
  /** Per-layer weight w_l. */
  readonly weight: number;
  /** C_l × C_l Gram matrix, row-major, normalized as in the module doc. */
  readonly gram: Float32Array;
  /** Optional region mask at the *image* resolution (H × W, values 0–1); resized per layer. */
  readonly mask?: Float32Array;
  /** m_l, the style's mean feature (C_l values); `mean-covariance` needs it. */
  readonly mean?: Float32Array;
  /** What the term matches (default `gram`); `mean-covariance` derives S_l from `gram` and `mean`. */
  readonly statistic?: StyleStatistic;
}

/** Everything an engine needs to build f(x) = loss and ∇f(x). */
export interface ObjectiveSpec {
  /** Network weights (possibly partial: only the convs present). */
  readonly weights: VggWeights;
  /** Pooling between blocks. */
  readonly pooling: Pooling;
  /** Image height (pixels). */
  readonly height: number;
  /** Image width (pixels). */
  readonly width: number;
  /** Content targets (may be empty). */
  readonly content: readonly ContentTarget[];
  /** Style targets (may be empty). Several entries may name the same layer (regional styles). */
  readonly style: readonly StyleTarget[];
  /** α */
  readonly contentWeight: number;
  /** β */
  readonly styleWeight: number;
  /** Total-variation weight. */
  readonly tvWeight: number;
  /** How the first conv pads the image (default zero, as VGG); targets must be extracted alike. */
  readonly padding?: Padding;
}

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

/** Activations of one layer, HWC. */
export interface Activation {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Float32Array;
}

/** One layer's masked sums asked of {@link Engine.statistics}. */
export interface StatisticsRequest {
  /** Layer name, e.g. `relu1_1`. */
  readonly layer: string;
  /** M (H_l × W_l, the layer's resolution for the image given): each row of F_l multiplied by it. */
  readonly mask: Float32Array;
}

/** Raw (unnormalized) sums of one layer: S = (M F)ᵀ(M F) and s = (M F)ᵀ1. */
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
  planObjective?(weights: VggWeights, plan: LossPlan): Promise<DisposableObjective<V>>;
  /**
   * Forward pass only, returning per request the masked raw sums of its layer
   * ({@link LayerStatistics}) instead of the activations: the first pass of objective/tiled.ts.
   */
  statistics?(
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
