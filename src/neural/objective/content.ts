/**
 * The `content` term (Gatys et al. 2015, eq. 1, as a mean instead of ½·sum, so that weights are
 * comparable across layer sizes):
 *
 *   w · mean((F_l − P_l)²) = w · Σ_p ‖f_p − p_p‖² / (N·C_l)
 *
 * P_l the content image's activations at layer l (its target); the sum is statistics.ts's
 * `content-squared-difference`. Normalisation (`relative`, normalize.ts) divides w by mean(P_l²).
 */
import type { LayerShape } from "../plan/network.ts";
import type { Activation, ContentTarget } from "./spec.ts";
import { meanSquare } from "./statistics.ts";

/** A content term of the loss table. */
export interface ContentTerm {
  /** w · mean((F_l − P_l)²). */
  readonly kind: "content";
  readonly layer: string;
  readonly shape: LayerShape;
  /** The whole factor w = content_weight · w_l. */
  readonly weight: number;
  /** P_l, HWC [H_l, W_l, C_l]. */
  readonly target: Float32Array;
  /**
   * Optional M_l (H_l × W_l; tiled.ts: the 0/1 mask of the positions a tile owns): the term is then
   * w · Σ_p M_p² ‖f_p − p_p‖² / (N·C_l), still divided by all N·C_l entries (rows masked as in
   * a `masked-gram` term).
   */
  readonly mask?: Float32Array;
}

/**
 * A content target for `layer`. The activations are taken over, not copied (a copy of relu3_2 at
 * 4096×3072 would be 805 MB more at the peak): the caller passes ones it no longer writes.
 */
export function contentTarget(layer: string, weight: number, a: Activation): ContentTarget {
  return { layer, weight, activations: a.data };
}

/** What `relative` divides a content term's weight by: mean(P_l²). */
export function contentMagnitude(t: ContentTarget): number {
  return meanSquare(t.activations);
}
