/**
 * The `gram` and `masked-gram` terms (Gatys et al. 2015, eqs. 3–5, normalised per entry instead of
 * the paper's 1/(4N²M²), so that per-layer weights are comparable across layer sizes):
 *
 *   G_l = S_l / (N·C_l),  S_l = Σ_p f_p f_pᵀ   (statistics.ts's `gram` sum)
 *   term = w · mean((G_l − A_l)²)               (mean over the C_l² entries)
 *
 * A_l the style image's G_l (its target, computed here on the host by {@link gramMatrix}). For a
 * `masked-gram` term each row f_p is first multiplied by M_p, the region mask area-averaged to the
 * layer's resolution (layer_mask.ts), so S_l = Σ_p M_p² f_p f_pᵀ, still divided by N·C_l: a region
 * covering part of the image yields a proportionally smaller Gram, which {@link maskGramScale}
 * gives the target. Normalisation (`relative`, normalize.ts) divides w by the photo's own
 * mean(G_l²).
 */
import type { LayerShape } from "../plan/network.ts";
import { maskAtLayer } from "./layer_mask.ts";
import type { Activation } from "./spec.ts";
import { activationCounts, meanSquare } from "./statistics.ts";

/** A Gram term of the loss table. */
export interface GramTerm {
  /** w · mean((G_l − A_l)²) over the C_l² entries. */
  readonly kind: "gram";
  readonly layer: string;
  readonly shape: LayerShape;
  /** The whole factor w = style_weight · w_l. */
  readonly weight: number;
  /** A_l, C_l × C_l row-major. */
  readonly gram: Float32Array;
}

/** A Gram term through a region mask. */
export interface MaskedGramTerm {
  /** As `gram`, with the rows (positions) of F_l multiplied by the mask M_l first. */
  readonly kind: "masked-gram";
  readonly layer: string;
  readonly shape: LayerShape;
  /** The whole factor w = style_weight · w_l. */
  readonly weight: number;
  /** A_l, C_l × C_l row-major. */
  readonly gram: Float32Array;
  /** M_l at the layer's resolution (H_l × W_l, area-averaged from the image's mask). */
  readonly mask: Float32Array;
}

/**
 * S = Σ_p M_p² f_p f_pᵀ (C × C, row-major, float64) of HWC activations; M_p = 1 without `mask`
 * (H × W values 0–1, already at the layer's resolution).
 */
export function gramSum(a: Activation, mask?: Float32Array): Float64Array {
  const { positions, channels: c } = activationCounts(a);
  const { data } = a;
  if (mask && mask.length !== positions) {
    throw new RangeError(`mask has ${mask.length} values, expected ${a.height}×${a.width}`);
  }
  const acc = new Float64Array(c * c);
  const row = new Float64Array(c);
  for (let p = 0; p < positions; p++) {
    const m = mask ? mask[p] : 1;
    if (m === 0) continue;
    for (let i = 0; i < c; i++) row[i] = m * data[p * c + i];
    for (let i = 0; i < c; i++) {
      const fi = row[i];
      if (fi === 0) continue; // ReLU outputs are sparse
      const base = i * c;
      for (let j = i; j < c; j++) acc[base + j] += fi * row[j];
    }
  }
  for (let i = 0; i < c; i++) for (let j = i + 1; j < c; j++) acc[j * c + i] = acc[i * c + j];
  return acc;
}

/** G = S / (N·C), the normalized Gram matrix of a Gram sum over N positions of C channels. */
export function gramFromSum(sum: Float64Array, positions: number, channels: number): Float32Array {
  const norm = positions * channels;
  return Float32Array.from(sum, (v) => v / norm);
}

/** The normalized Gram matrix G (C × C, row-major) of HWC activations, masked as in gramSum. */
export function gramMatrix(a: Activation, mask?: Float32Array): Float32Array {
  const { positions, channels } = activationCounts(a);
  return gramFromSum(gramSum(a, mask), positions, channels);
}

/**
 * Elementwise Σ wₖ·Gₖ of same-shaped Gram matrices (a style blend; also blends the styles' mean
 * features). Weights are used as given (normalize them first).
 */
export function blendGrams(
  grams: readonly Float32Array[],
  weights: readonly number[],
): Float32Array {
  if (grams.length === 0 || grams.length !== weights.length) {
    throw new RangeError("blendGrams needs one weight per Gram matrix (at least one)");
  }
  const out = new Float64Array(grams[0].length);
  grams.forEach((g, k) => {
    if (g.length !== out.length) throw new RangeError("Gram matrices differ in size");
    for (let i = 0; i < g.length; i++) out[i] += weights[k] * g[i];
  });
  return Float32Array.from(out);
}

/**
 * The mean of M² for a region mask (image resolution, values 0–1) area-averaged onto the
 * resolution of a layer of VGG block `block` of an image of height × width: multiplying the style
 * image's (unmasked) Gram by it gives the target a region with the style's statistics would reach.
 */
export function maskGramScale(
  mask: Float32Array,
  height: number,
  width: number,
  block: number,
): number {
  const m = maskAtLayer(mask, height, width, block);
  let acc = 0;
  for (let i = 0; i < m.length; i++) acc += m[i] * m[i];
  return acc / m.length;
}

/** What `relative` divides a Gram term's weight by: mean(G²) of the photo's own Gram. */
export function gramMagnitude(photoGram: Float32Array): number {
  return meanSquare(photoGram);
}
