/**
 * `color-preserve`: after a style transfer, give the result the content photo's colours
 * (Gatys, Bethge, Hertzmann & Shechtman 2016).
 * - `luminance` (the paper's luminance-only transfer, §2.2): the result's luma with the content's
 *   chroma, in YIQ or YCbCr. A content image of another size is resized to the result (lanczos3).
 * - `linear` / `histogram`: the result's colours matched to the content's — mean and covariance
 *   (Cholesky or PCA matrix) or each channel's histogram. The paper matches the style before the
 *   transfer (see `color-match`); matching afterwards is the same operation applied to the result.
 * The output is clamped to [0, 1] (recombined colours can leave the RGB gamut).
 */
import { z } from "npm:zod@4.6.7";
import { clampUnit, colorSpaces, combineLuminanceChroma } from "../image/color.ts";
import { histogramColorTransfer } from "../image/histogram_match.ts";
import type { RgbImage } from "../image/image.ts";
import { linearColorTransfer, linearVariants } from "../image/linear_color_transfer.ts";
import { resizeImage } from "../image/resample.ts";
import { imageOf, type Stage, type StageContext } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({
  method: z.enum(["luminance", "linear", "histogram"]).default("luminance").describe(
    "luminance: result's luma + content's chroma; linear: match mean and covariance to the " +
      "content; histogram: match each RGB channel's histogram to the content",
  ),
  space: z.enum(colorSpaces).default("yiq").describe(
    "luma/chroma space for method luminance: yiq or ycbcr (full-range BT.601)",
  ),
  variant: z.enum(linearVariants).default("pca").describe(
    "matrix for method linear: pca (symmetric square roots, the paper's image-analogies " +
      "variant) or cholesky",
  ),
}).strict();

/** Parsed parameters of `color-preserve`. */
export type ColorPreserveParams = z.infer<typeof params>;

/** The `color-preserve` stage. */
export const colorPreserveStage: Stage<ColorPreserveParams> = {
  name: "color-preserve",
  version: 1,
  description: "Keep the content photo's colours in a styled result (luminance, linear, histogram)",
  params,
  inputs: {
    styled: { kind: "image", description: "the style transfer's result" },
    content: { kind: "image", description: "the content photo whose colours are kept" },
  },
  output: "image",
  shape(inputs) {
    return inputs.styled;
  },
  run(ctx, inputs, p) {
    // Promise.try: a bad input rejects the promise instead of throwing synchronously.
    return Promise.try(() => {
      const styled = imageOf(inputs.styled, "styled");
      const content = imageOf(inputs.content, "content");
      return {
        kind: "image",
        image: keepExtras(clampUnit(preserveColors(ctx, styled, content, p)), styled),
        info: { method: p.method, ...(p.method === "luminance" ? { space: p.space } : {}) },
      };
    });
  },
};

function preserveColors(
  ctx: StageContext,
  styled: RgbImage,
  content: RgbImage,
  p: ColorPreserveParams,
): RgbImage {
  switch (p.method) {
    case "luminance": {
      const sameSize = content.width === styled.width && content.height === styled.height;
      if (!sameSize) {
        ctx.warn(
          `content is ${content.width}×${content.height}, result is ${styled.width}×` +
            `${styled.height}: resizing the content (lanczos3) to take its chroma`,
        );
      }
      const chroma = sameSize ? content : resizeImage(content, styled.width, styled.height);
      return combineLuminanceChroma(styled, chroma, p.space);
    }
    case "linear":
      return linearColorTransfer(styled, content, p.variant);
    case "histogram":
      return histogramColorTransfer(styled, content);
  }
}
