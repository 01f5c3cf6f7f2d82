/**
 * Loss normalisation as per-term weights, so that content_weight, style_weight and tv_weight mean
 * the same thing at every image size, layer set and style image. `relative` (the default) turns
 * every term into a relative error:
 * - a content term of layer l is divided by mean(P_l²), a style term by mean(A_l²) (its target's
 *   own magnitude; a `mean-covariance` term by mean(S_l²) + λ·mean(m_l²), its value at zero
 *   features), so each term is 1 for a zero image and 0 at its target, whatever the layer's
 *   size, channel count or the painting's contrast;
 * - the layer weights of each kind are divided by their sum, so adding a layer does not strengthen
 *   the kind;
 * - the TV term is divided by the content image's own TV, so 1 means "as rough as the photo",
 *   independent of the pixel count.
 * `paper` leaves the weights as given (the loss of engine.ts as Gatys et al. / jcjohnson write it).
 */
import type { ContentTarget, StyleTarget } from "../engines/engine.ts";
import { covarianceFromGram, meanPartWeight } from "./targets.ts";

/** How the per-term weights are derived from the user's weights. */
export type Normalization = "relative" | "paper";

/** The normalisations, for the parameter schema. */
export const normalizations = ["relative", "paper"] as const;

/** Targets with normalized weights and the factor for the TV weight. */
export interface NormalizedTerms {
  readonly content: ContentTarget[];
  readonly style: StyleTarget[];
  /** Multiplies tv_weight. */
  readonly tvScale: number;
}

/**
 * The targets' weights under `normalization`; `contentImage` is the content image (HWC RGB, 0–255,
 * `height` × `width`) whose TV scales the TV term.
 */
export function normalizeTerms(
  normalization: Normalization,
  content: readonly ContentTarget[],
  style: readonly StyleTarget[],
  contentImage: { height: number; width: number; data: Float32Array },
): NormalizedTerms {
  if (normalization === "paper") return { content: [...content], style: [...style], tvScale: 1 };
  const contentSum = sumOf(content.map((t) => t.weight));
  const styleSum = sumOf(style.map((t) => t.weight));
  return {
    content: content.map((t) => ({
      ...t,
      weight: t.weight / contentSum / meanSquare(t.activations),
    })),
    style: style.map((t) => ({ ...t, weight: t.weight / styleSum / styleMagnitude(t) })),
    tvScale: 1 / Math.max(totalVariation(contentImage), 1e-6),
  };
}

/** Σ (x[i+1,j,c] − x[i,j,c])² + (x[i,j+1,c] − x[i,j,c])² of an HWC RGB image (engine.ts's TV). */
export function totalVariation(
  image: { height: number; width: number; data: Float32Array },
): number {
  const { height: h, width: w, data } = image;
  let sum = 0;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      for (let c = 0; c < 3; c++) {
        const v = data[(i * w + j) * 3 + c];
        if (i + 1 < h) sum += (data[((i + 1) * w + j) * 3 + c] - v) ** 2;
        if (j + 1 < w) sum += (data[(i * w + j + 1) * 3 + c] - v) ** 2;
      }
    }
  }
  return sum;
}

/** The style term of `t` with weight 1 at zero features: mean(A²), or mean(S²) + λ·mean(m²). */
function styleMagnitude(t: StyleTarget): number {
  if (t.statistic !== "mean-covariance" || !t.mean) return meanSquare(t.gram);
  const lambda = meanPartWeight(t.mean);
  return meanSquare(covarianceFromGram(t.gram, t.mean)) + lambda * meanSquare(t.mean);
}

function meanSquare(a: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += a[i] * a[i];
  // A target of zeros (a dead layer) keeps a finite weight.
  return Math.max(sum / Math.max(1, a.length), 1e-12);
}

function sumOf(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  return sum > 0 ? sum : 1;
}
