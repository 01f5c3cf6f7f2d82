/**
 * The `linear` term (objective/tiled.ts, second pass): w · (⟨R, (M_l F_l)ᵀ(M_l F_l)⟩ +
 * ⟨r, (M_l F_l)ᵀ1⟩), linear in the layer's masked Gram sum and feature sum (raw sums over the
 * H_l·W_l rows, not normalized). Its gradient by F_l is w · (M_l ⊙ ((M_l F_l)(R + Rᵀ)) + M_l rᵀ):
 * the exact style gradient of a tile when R and r are the whole loss's derivatives by those sums.
 */
import type { LayerShape } from "../plan/network.ts";

/** One `linear` term of the table. */
export interface LinearTerm {
  readonly kind: "linear";
  readonly layer: string;
  readonly shape: LayerShape;
  readonly weight: number;
  /** R, C_l × C_l row-major. */
  readonly gram: Float32Array;
  /** r, C_l values. */
  readonly sum: Float32Array;
  /** M_l, H_l × W_l. */
  readonly mask: Float32Array;
}
