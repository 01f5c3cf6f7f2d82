/**
 * `adjust`: tone and colour corrections, applied per pixel and channel in this order:
 * 1. brightness b: v ↦ v + b
 * 2. contrast c:   v ↦ (v − 0.5) · c + 0.5
 * 3. saturation s: v ↦ Y + (v − Y) · s, Y the pixel's Rec. 709 luma (0.2126 R + 0.7152 G + 0.0722 B)
 * 4. gamma g:      v ↦ max(v, 0)^(1/g)  (g > 1 brightens mid-tones)
 * The defaults (0, 1, 1, 1) change nothing. Values are not clamped here; `save` clamps.
 */
import { z } from "npm:zod@4.6.7";
import { adjustImage } from "../image/adjust.ts";
import { imageOf, type Stage } from "./stage.ts";
import { keepExtras } from "../image/alpha.ts";

const params = z.object({
  brightness: z.number().min(-1).max(1).default(0).describe("added to every channel (−1…1)"),
  contrast: z.number().min(0).max(10).default(1).describe(
    "factor on the distance from mid-grey 0.5 (0: flat grey, 1: unchanged)",
  ),
  saturation: z.number().min(0).max(10).default(1).describe(
    "factor on the distance from the pixel's luma (0: grayscale, 1: unchanged)",
  ),
  gamma: z.number().positive().max(10).default(1).describe(
    "v ↦ v^(1/gamma): above 1 brightens mid-tones, below 1 darkens them",
  ),
}).strict();

/** Parsed parameters of `adjust`. */
export type AdjustParams = z.infer<typeof params>;

/** The `adjust` stage. */
export const adjustStage: Stage<AdjustParams> = {
  name: "adjust",
  version: 1,
  description: "Brightness, contrast, saturation and gamma",
  params,
  inputs: { image: { kind: "image", description: "the image to adjust" } },
  output: "image",
  shape(inputs) {
    return inputs.image;
  },
  run(_ctx, inputs, p) {
    const image = imageOf(inputs.image, "image");
    return Promise.resolve({ kind: "image", image: keepExtras(adjustImage(image, p), image) });
  },
};
