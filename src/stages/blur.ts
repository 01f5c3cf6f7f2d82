/**
 * `blur`: Gaussian blur with standard deviation `sigma` pixels, applied separably with a kernel
 * truncated at ⌈3σ⌉ and normalized to sum 1; borders are replicated (edge clamp), so a flat image
 * stays flat. σ = 0 leaves the image unchanged.
 */
import { z } from "npm:zod@4.6.7";
import { gaussianBlur } from "../image/gaussian.ts";
import { imageOf, type Stage } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({
  sigma: z.number().min(0).max(100).default(1).describe(
    "standard deviation in pixels (0: no blur)",
  ),
}).strict();

/** Parsed parameters of `blur`. */
export type BlurParams = z.infer<typeof params>;

/** The `blur` stage. */
export const blurStage: Stage<BlurParams> = {
  name: "blur",
  version: 1,
  description: "Gaussian blur (sigma in pixels, separable, edges clamped)",
  params,
  inputs: { image: { kind: "image", description: "the image to blur" } },
  output: "image",
  shape(inputs) {
    return inputs.image;
  },
  estimate(inputs) {
    // Input, one intermediate pass and the output, float RGB.
    return inputs.image && { bytes: 3 * 12 * inputs.image.width * inputs.image.height };
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    return Promise.resolve({
      kind: "image",
      image: keepExtras(gaussianBlur(image, p.sigma), image),
    });
  },
};
