/**
 * The `linear` term: the second pass of the tiled evaluation (tiled.ts). For a crop's features F_l
 * and a 0/1 mask M_l of the positions the tile owns (times a region mask where the style term has
 * one), with statistics.ts's sums taken over the crop,
 *
 *   term = w · (⟨R, Σ_p M_p² f_p f_pᵀ⟩ + ⟨r, Σ_p M_p f_p⟩)
 *   ∂term/∂f_p = w · M_p · (M_p (R + Rᵀ) f_p + r)
 *
 * With R = ∂L/∂S and r = ∂L/∂s of a style term L taken at the whole image's sums S and s (held
 * constant), the gradient by the owned features is exactly the whole loss's, while the value
 * itself means nothing (tiled.ts forms L from the sums).
 */
import type { LayerShape } from "../plan/network.ts";

/** A `linear` term of a tile's loss table. */
export interface LinearTerm {
  /** w · (⟨R, Σ M² f fᵀ⟩ + ⟨r, Σ M f⟩). */
  readonly kind: "linear";
  readonly layer: string;
  readonly shape: LayerShape;
  /** The whole factor w. */
  readonly weight: number;
  /** R, C_l × C_l row-major. */
  readonly gram: Float32Array;
  /** r, C_l values. */
  readonly sum: Float32Array;
  /** M_l, H_l × W_l. */
  readonly mask: Float32Array;
}
