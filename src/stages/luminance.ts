/**
 * `luminance`: an image's BT.601 luma replicated on three channels, for the paper's luminance-only
 * transfer (Gatys, Bethge, Hertzmann & Shechtman 2016, §2.2). With a `reference` input, the luma is
 * first matched to the reference's luma mean and standard deviation (the paper's eq. 2, applied to
 * the style with the content as reference), so the style's luminance histogram fits the photo's.
 * Recipe: luminance(content), luminance(style, reference: content) → extract-features →
 * style-transfer → color-preserve(method: luminance, content: the original photo).
 * The output is clamped to [0, 1].
 */
import { z } from "npm:zod@4.6.7";
import { clampUnit, greyFromLuminance, luminance } from "../image/color.ts";
import { matchMeanStd } from "../image/color_stats.ts";
import { imageOf, type Stage } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({}).strict();

/** Parsed parameters of `luminance` (none). */
export type LuminanceParams = z.infer<typeof params>;

/** The `luminance` stage. */
export const luminanceStage: Stage<LuminanceParams> = {
  name: "luminance",
  version: 1,
  description: "Luminance on three channels, optionally matched to a reference's mean and std",
  params,
  inputs: {
    image: { kind: "image", description: "the image whose luminance is taken" },
    reference: {
      kind: "image",
      optional: true,
      description: "match the luminance mean and standard deviation to this image's (the content)",
    },
  },
  output: "image",
  shape(inputs) {
    return inputs.image;
  },
  run(_ctx, inputs) {
    // Promise.try: a bad input rejects the promise instead of throwing synchronously.
    return Promise.try(() => {
      const image = imageOf(inputs.image, "image");
      let luma = luminance(image);
      if (inputs.reference !== undefined) {
        luma = matchMeanStd(luma, luminance(imageOf(inputs.reference, "reference")));
      }
      return {
        kind: "image",
        image: keepExtras(clampUnit(greyFromLuminance(luma, image.width, image.height)), image),
        info: { matched: inputs.reference !== undefined },
      };
    });
  },
};
