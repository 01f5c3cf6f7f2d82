/**
 * The sums over positions every term is formed from, and the constants that normalise them. A term
 * of layer l reads F_l, its activations as an N × C_l matrix: N = H_l·W_l positions p (rows f_p),
 * C_l channels. Each term kind's value is a function of one or more sums over p (a sum over the TV
 * term's pixels for the image), divided by N and C_l: so an evaluator may add a sum's parts over
 * disjoint sets of positions (tiles) and form the loss once from the totals.
 */
import type { LayerShape } from "../plan/network.ts";
import type { Activation } from "./spec.ts";

/**
 * A sum over positions a term kind needs (terms.ts {@link TERM_KINDS} lists them per kind):
 * - `gram`: S_l = Σ_p f_p f_pᵀ (C_l × C_l);
 * - `masked-gram`: Σ_p M_p² f_p f_pᵀ, M the region mask at the layer's resolution;
 * - `feature`: s_l = Σ_p f_p (C_l values);
 * - `content-squared-difference`: Σ_p ‖f_p − p_p‖², P_l the content target;
 * - `tv-squared-difference`: Σ over pixels (i, j) and channels of (x[i+1,j] − x[i,j])² and
 *   (x[i,j+1] − x[i,j])², each pair counted at its upper-left pixel.
 */
export type PositionSum =
  | "gram"
  | "masked-gram"
  | "feature"
  | "content-squared-difference"
  | "tv-squared-difference";

/** The normalisation constants of a layer: N = H_l·W_l positions, C_l channels. */
export interface LayerCounts {
  readonly positions: number;
  readonly channels: number;
}

/** N and C_l of a layer of `shape`. */
export function layerCounts(shape: LayerShape): LayerCounts {
  return { positions: shape.height * shape.width, channels: shape.channels };
}

/** The counts of `a`, checking that its data holds H·W·C values (RangeError otherwise). */
export function activationCounts(a: Activation): LayerCounts {
  const counts = layerCounts(a);
  if (a.data.length !== counts.positions * counts.channels) {
    throw new RangeError(
      `activation has ${a.data.length} values, expected ${a.height}×${a.width}×${a.channels}`,
    );
  }
  return counts;
}

/** mean(a²), at least 1e-12 so that a target of zeros (a dead layer) keeps a finite weight. */
export function meanSquare(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  return Math.max(sum / Math.max(1, a.length), 1e-12);
}
