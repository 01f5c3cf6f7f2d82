/**
 * Style and content targets computed on the host from activations (the `extract-features` side;
 * the engines compute the same quantities on the optimized image). Normalization as in engine.ts:
 * G = FᵀF / (H·W·C), F as an (H·W) × C matrix, rows multiplied by the mask when one is given; the
 * mean m = Fᵀ1 / (H·W) and covariance S = G − mmᵀ/C of `mean-covariance` terms.
 */
import type { Activation, ContentTarget } from "../engines/engine.ts";
import { maskAtLayer } from "../models/layer_mask.ts";

/**
 * Normalized Gram matrix (C × C, row-major) of HWC activations. With `mask` (H × W values 0–1,
 * already at the layer's resolution) each pixel's feature vector is multiplied by its mask value.
 * Accumulates in float64.
 */
export function gramMatrix(a: Activation, mask?: Float32Array): Float32Array {
  const { height, width, channels: c, data } = a;
  const pixels = height * width;
  if (data.length !== pixels * c) {
    throw new RangeError(`activation has ${data.length} values, expected ${height}×${width}×${c}`);
  }
  if (mask && mask.length !== pixels) {
    throw new RangeError(`mask has ${mask.length} values, expected ${height}×${width}`);
  }
  const acc = new Float64Array(c * c);
  const row = new Float64Array(c);
  for (let p = 0; p < pixels; p++) {
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
  const norm = pixels * c;
  const gram = new Float32Array(c * c);
  for (let i = 0; i < c; i++) {
    for (let j = i; j < c; j++) {
      const v = acc[i * c + j] / norm;
      gram[i * c + j] = v;
      gram[j * c + i] = v;
    }
  }
  return gram;
}

/** The mean feature m = Fᵀ1 / (H·W) of HWC activations (C values), accumulated in float64. */
export function featureMean(a: Activation): Float32Array {
  const { height, width, channels: c, data } = a;
  const pixels = height * width;
  if (data.length !== pixels * c) {
    throw new RangeError(`activation has ${data.length} values, expected ${height}×${width}×${c}`);
  }
  const acc = new Float64Array(c);
  for (let p = 0; p < pixels; p++) for (let i = 0; i < c; i++) acc[i] += data[p * c + i];
  return Float32Array.from(acc, (v) => v / pixels);
}

/**
 * The covariance S = A − m mᵀ / C (C × C, row-major) from a normalized Gram matrix A and the mean
 * m (engine.ts: G = Σ + μμᵀ/C). For a blend of styles (A and m blended with the same weights) it is
 * the covariance of the mixture, as the blended Gram is the mixture's Gram.
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
 * λ, the weight of the mean part of a `mean-covariance` term: 2·mean(m²)/C². With μ = m + δ the
 * Gram's mean part (μμᵀ − mmᵀ)/C is (mδᵀ + δmᵀ)/C to first order, whose mean square over the C²
 * entries is (2‖m‖²‖δ‖² + 2(mᵀδ)²)/C⁴; dropping (mᵀδ)² (1/C of it for a random direction) gives
 * λ·mean(δ²) with this λ. So the mean counts as much as in the Gram loss, without the cross term
 * that lets a covariance error cancel a mean error there.
 */
export function meanPartWeight(mean: Float32Array): number {
  const c = mean.length;
  let sum = 0;
  for (let i = 0; i < c; i++) sum += mean[i] * mean[i];
  return 2 * (sum / Math.max(1, c)) / Math.max(1, c * c);
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
 * resolution of a layer of VGG block `block` of an image of height × width.
 *
 * The engines normalize a masked Gram by H·W·C whatever the mask covers, so a region covering a
 * fraction of the image yields a proportionally smaller Gram; multiplying the style image's
 * (unmasked) Gram by this factor gives the target a region with the style's statistics would reach.
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

/** A content target for `layer` (the activations are copied). */
export function contentTarget(layer: string, weight: number, a: Activation): ContentTarget {
  return { layer, weight, activations: a.data.slice() };
}
