/**
 * `color-match`: before a style transfer, recolour the style image to the content photo's colour
 * statistics, so the transfer keeps the photo's colours (Gatys, Bethge, Hertzmann & Shechtman 2016,
 * §2.1). Run it on the style image before `extract-features`.
 * - `linear`: mean and channel covariance matched, x ↦ A (x − μ_style) + μ_content, with A from
 *   the Cholesky factors or from symmetric square roots (PCA / image analogies, the default).
 * - `histogram`: each RGB channel's histogram matched (exact CDF matching).
 * The output is clamped to [0, 1].
 */
import { z } from "npm:zod@4.6.7";
import { clampUnit } from "../image/color.ts";
import { histogramColorTransfer } from "../image/histogram_match.ts";
import { linearColorTransfer, linearVariants } from "../image/linear_color_transfer.ts";
import { imageOf, type Stage } from "./stage.ts";

const params = z.object({
  method: z.enum(["linear", "histogram"]).default("linear").describe(
    "linear: match mean colour and channel covariance; histogram: match each channel's histogram",
  ),
  variant: z.enum(linearVariants).default("pca").describe(
    "matrix for method linear: pca (symmetric square roots, the paper's image-analogies " +
      "variant) or cholesky",
  ),
}).strict();

/** Parsed parameters of `color-match`. */
export type ColorMatchParams = z.infer<typeof params>;

/** The `color-match` stage. */
export const colorMatchStage: Stage<ColorMatchParams> = {
  name: "color-match",
  version: 1,
  description: "Recolour the style image to the content's colour statistics (before a transfer)",
  params,
  inputs: {
    style: { kind: "image", description: "the style image to recolour" },
    content: { kind: "image", description: "the content photo whose colours are matched" },
  },
  output: "image",
  shape(inputs) {
    return inputs.style;
  },
  run(_ctx, inputs, p) {
    // Promise.try: a bad input rejects the promise instead of throwing synchronously.
    return Promise.try(() => {
      const style = imageOf(inputs.style, "style");
      const content = imageOf(inputs.content, "content");
      const matched = p.method === "linear"
        ? linearColorTransfer(style, content, p.variant)
        : histogramColorTransfer(style, content);
      return {
        kind: "image",
        image: clampUnit(matched),
        info: { method: p.method, ...(p.method === "linear" ? { variant: p.variant } : {}) },
      };
    });
  },
};
