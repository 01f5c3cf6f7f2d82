/**
 * The `mean-covariance` term (unmasked only; a departure from the paper's Gram loss that matches
 * the style's mean and covariance separately):
 *
 *   μ_l = s_l / N,  s_l = Σ_p f_p                     (statistics.ts's `feature` sum)
 *   Σ_l = S_l / (N·C_l) − μ_l μ_lᵀ / C_l = G_l − μ_l μ_lᵀ / C_l   (S_l the `gram` sum, gram.ts)
 *   term = w · (mean((Σ_l − S_l*)²) + λ · mean((μ_l − m_l)²))   (means over C_l² and C_l entries)
 *
 * so Σ_l is (F_l − 1μ_lᵀ)ᵀ(F_l − 1μ_lᵀ) / (N·C_l), the covariance normalised like the Gram. The
 * targets S_l* and m_l are the style's covariance and mean ({@link covarianceFromGram},
 * {@link featureMean}); λ = {@link meanPartWeight}. Normalisation (`relative`, normalize.ts)
 * divides w by the term's value at zero features with the photo's covariance and mean.
 */
import type { LayerShape } from "../plan/network.ts";
import type { Activation } from "./spec.ts";
import { activationCounts, meanSquare } from "./statistics.ts";

/** A mean-covariance term of the loss table. */
export interface MeanCovarianceTerm {
  /** w · (mean((Σ_l − S_l)²) + λ·mean((μ_l − m_l)²)): the style's mean and covariance. */
  readonly kind: "mean-covariance";
  readonly layer: string;
  readonly shape: LayerShape;
  /** The whole factor w = style_weight · w_l. */
  readonly weight: number;
  /** S_l, C_l × C_l row-major. */
  readonly covariance: Float32Array;
  /** m_l, C_l values. */
  readonly mean: Float32Array;
  /** λ, the mean part's weight relative to the covariance part's. */
  readonly meanWeight: number;
}

/** s = Σ_p f_p of HWC activations (C values, float64). */
export function featureSum(a: Activation): Float64Array {
  const { positions, channels: c } = activationCounts(a);
  const { data } = a;
  const acc = new Float64Array(c);
  for (let p = 0; p < positions; p++) for (let i = 0; i < c; i++) acc[i] += data[p * c + i];
  return acc;
}

/** The mean feature m = s / N of HWC activations (C values). */
export function featureMean(a: Activation): Float32Array {
  const { positions } = activationCounts(a);
  return Float32Array.from(featureSum(a), (v) => v / positions);
}

/**
 * The covariance S = A − m mᵀ / C (C × C, row-major) from a normalized Gram matrix A and the mean
 * m. For a blend of styles (A and m blended with the same weights) it is the covariance of the
 * mixture, as the blended Gram is the mixture's Gram.
 */
export function covarianceFromGram(gram: Float32Array, mean: Float32Array): Float32Array {
  const c = mean.length;
  if (gram.length !== c * c) {
    throw new RangeError(`Gram matrix has ${gram.length} values, expected ${c}×${c} for the mean`);
  }
  const out = new Float32Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = 0; j < c; j++) out[i * c + j] = gram[i * c + j] - mean[i] * mean[j] / c;
  }
  return out;
}

/**
 * λ, the weight of the mean part: 2·mean(m²)/C². With μ = m + δ the Gram's mean part
 * (μμᵀ − mmᵀ)/C is (mδᵀ + δmᵀ)/C to first order, whose mean square over the C² entries is
 * (2‖m‖²‖δ‖² + 2(mᵀδ)²)/C⁴; dropping (mᵀδ)² (1/C of it for a random direction) gives λ·mean(δ²)
 * with this λ. So the mean counts as much as in the Gram loss, without the cross term that lets a
 * covariance error cancel a mean error there.
 */
export function meanPartWeight(mean: Float32Array): number {
  const c = mean.length;
  let sum = 0;
  for (let i = 0; i < c; i++) sum += mean[i] * mean[i];
  return 2 * (sum / Math.max(1, c)) / Math.max(1, c * c);
}

/**
 * What `relative` divides a mean-covariance term's weight by: mean(S²) + λ·mean(m²) of the photo's
 * own Gram and mean, λ the term's (from the style's mean `styleMean`).
 */
export function meanCovarianceMagnitude(
  styleMean: Float32Array,
  photo: { readonly gram: Float32Array; readonly mean: Float32Array },
): number {
  const lambda = meanPartWeight(styleMean);
  return meanSquare(covarianceFromGram(photo.gram, photo.mean)) + lambda * meanSquare(photo.mean);
}
