/**
 * Loss normalisation as per-term weights, so that content_weight, style_weight and tv_weight mean
 * the same thing at every image size and layer set. `relative` (the default) measures every term
 * against the content photo's own statistic at the same place:
 * - a content term of layer l is divided by mean(P_l²), P_l the photo's activations;
 * - a style term of layer l is divided by mean(G_l²), G_l the photo's own Gram matrix there, so a
 *   style term of 1 is a Gram mismatch as large as the photo's own texture energy (a
 *   `mean-covariance` term by the photo's mean(S_l²) + λ·mean(m_l²), the term's value at zero
 *   features with the photo's covariance and mean, λ the term's own);
 * - the layer weights of each kind are divided by their sum, so adding a layer does not strengthen
 *   the kind;
 * - the TV term is divided by the photo's own TV, so 1 means "as rough as the photo".
 * Each is a mean over entries, so none depends on the pixel count or a layer's channel count.
 * Each term kind's magnitude is defined in its own file (content.ts, gram.ts, mean_covariance.ts,
 * tv.ts). `paper` leaves the weights as given (the loss of terms.ts as Gatys et al. / jcjohnson
 * write it).
 */
import { contentMagnitude } from "./content.ts";
import { gramMagnitude } from "./gram.ts";
import { meanCovarianceMagnitude } from "./mean_covariance.ts";
import type { ContentTarget, StyleTarget } from "./spec.ts";
import { totalVariation } from "./tv.ts";

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

/** The photo's own statistics at one style layer. */
export interface PhotoLayerStatistics {
  /** Its Gram matrix (gram.ts's normalisation). */
  readonly gram: Float32Array;
  /** Its mean feature per channel. */
  readonly mean: Float32Array;
}

/** What `relative` measures the terms against: the content photo and its own style statistics. */
export interface PhotoStatistics {
  /** The content photo, HWC RGB 0–255 (its TV scales the TV term). */
  readonly image: { height: number; width: number; data: Float32Array };
  /** The photo's statistics at every style layer, by layer name. */
  readonly layers: ReadonlyMap<string, PhotoLayerStatistics>;
}

/** The targets' weights under `normalization`, measured against `photo` for `relative`. */
export function normalizeTerms(
  normalization: Normalization,
  content: readonly ContentTarget[],
  style: readonly StyleTarget[],
  photo: PhotoStatistics,
): NormalizedTerms {
  if (normalization === "paper") return { content: [...content], style: [...style], tvScale: 1 };
  const contentSum = sumOf(content.map((t) => t.weight));
  const styleSum = sumOf(style.map((t) => t.weight));
  return {
    content: content.map((t) => ({
      ...t,
      weight: t.weight / contentSum / contentMagnitude(t),
    })),
    // Against the photo's Gram, not the painting's: a painting with less texture energy than the
    // photo pulls less, so it does not overwrite the photo (dividing by the painting's own Gram
    // put Seated Nude's content distance at 3.9× the paper setting's, Starry Night's at 1.8×).
    style: style.map((t) => ({
      ...t,
      weight: t.weight / styleSum / styleMagnitude(t, photoLayer(photo, t.layer)),
    })),
    tvScale: 1 / Math.max(totalVariation(photo.image), 1e-6),
  };
}

function photoLayer(photo: PhotoStatistics, layer: string): PhotoLayerStatistics {
  const stats = photo.layers.get(layer);
  if (!stats) throw new RangeError(`no Gram matrix of the photo at style layer ${layer}`);
  return stats;
}

/** The photo's own size of the term `t`: its kind's magnitude at the photo's statistics. */
function styleMagnitude(t: StyleTarget, photo: PhotoLayerStatistics): number {
  if (t.statistic !== "mean-covariance" || !t.mean) return gramMagnitude(photo.gram);
  return meanCovarianceMagnitude(t.mean, photo);
}

function sumOf(values: readonly number[]): number {
  const sum = values.reduce((a, b) => a + b, 0);
  return sum > 0 ? sum : 1;
}
