/**
 * What an objective is made of, in engine-neutral terms: the targets (taken from the content and
 * style images by `extract-features`) and the weights, padding and size of one evaluation. The
 * terms built from it, and the exact loss of each, are in terms.ts and its term-kind files.
 */
import type { VggWeights } from "../models/weights_types.ts";
import type { Padding, Pooling } from "../plan/network.ts";

/** Activations of one layer, HWC: F_l as an (H_l·W_l) × C_l matrix, row by row. */
export interface Activation {
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly data: Float32Array;
}

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
  /** C_l × C_l Gram matrix, row-major, normalized as in gram.ts. */
  readonly gram: Float32Array;
  /** Optional region mask at the *image* resolution (H × W, values 0–1); resized per layer. */
  readonly mask?: Float32Array;
  /** m_l, the style's mean feature (C_l values); `mean-covariance` needs it. */
  readonly mean?: Float32Array;
  /** What the term matches (default `gram`); `mean-covariance` derives S_l from gram and mean. */
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
